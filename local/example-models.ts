import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sharedModelOwner } from '../lib/domain/model-version';
import { locationOf } from '../lib/domain/s3-location';
import type { ObjectStore } from '../lib/ports/object-store';
import { finishModelVersion, registerModelVersion } from '../lib/use-cases/register-model';
import type { RegisterModelDeps } from '../lib/use-cases/register-model';

const sha256Of = async (path: string) => {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
};

/** The files a shipped model's folder serves: its ONNX file, and a recognizer's alphabet. */
const filesOf = async (
  folder: string,
  manifest: { file: string; postprocess: { alphabetFile?: string } },
) => {
  const names = [
    manifest.file,
    ...(manifest.postprocess.alphabetFile ? [manifest.postprocess.alphabetFile] : []),
  ];
  return Promise.all(
    names.map(async (name) => ({
      name,
      sha256: await sha256Of(join(folder, name)),
      size: (await stat(join(folder, name))).size,
    })),
  );
};

/**
 * Registers the models under `models/` as the shared examples every owner sees, through the same
 * use cases an owner's registration goes through (files uploaded, then checked by a worker), once:
 * a version already registered is left as it is.
 */
export const registerExampleModels = async (
  modelsDir: string,
  deps: RegisterModelDeps & { objects: ObjectStore },
): Promise<string[]> => {
  const registered: string[] = [];
  for (const name of await readdir(modelsDir)) {
    let manifest: { name: string; version: string; file: string; postprocess: { alphabetFile?: string } };
    try {
      manifest = JSON.parse(await readFile(join(modelsDir, name, 'model.json'), 'utf8')) as typeof manifest;
    } catch {
      continue;
    }
    if (await deps.registry.getVersion(sharedModelOwner, manifest.name, manifest.version)) continue;
    const folder = join(modelsDir, name);
    const files = await filesOf(folder, manifest);
    const { version } = await registerModelVersion(
      sharedModelOwner,
      manifest.name,
      { version: manifest.version, onnxFile: manifest.file, files, manifest },
      deps,
    );
    const prefix = locationOf(version.location);
    for (const file of files) {
      await deps.objects.upload(
        { bucket: prefix.bucket, key: `${prefix.key}${file.name}` },
        createReadStream(join(folder, file.name)),
        'application/octet-stream',
      );
    }
    await finishModelVersion(sharedModelOwner, manifest.name, version.version, {}, deps);
    registered.push(`${manifest.name}:${manifest.version}`);
  }
  return registered;
};

/**
 * Waits until every shipped example has been decided by its check, so that the first job after
 * a first start does not meet MODEL_NOT_READY. A check that fails is reported, not hidden.
 */
export const awaitExampleModels = async (
  registry: RegisterModelDeps['registry'],
  refs: readonly string[],
  timeoutMs = 120_000,
) => {
  const deadline = Date.now() + timeoutMs;
  for (const ref of refs) {
    const [name = '', version = ''] = ref.split(':');
    for (;;) {
      const found = await registry.getVersion(sharedModelOwner, name, version);
      if (found?.status === 'failed') {
        console.error(
          `The example model ${ref} failed its check: ${found.error?.message ?? 'no reason given'}`,
        );
      }
      if (found && found.status !== 'checking' && found.status !== 'uploading') break;
      if (Date.now() > deadline)
        throw new Error(`The example model ${ref} was not checked within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
};
