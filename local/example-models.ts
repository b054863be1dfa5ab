import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sharedModelOwner } from '../lib/domain/model-version';
import { describeModelFile } from '../lib/models/model-file';
import { uploadThroughLink } from '../cli/model-push';
import { finishModelVersion, registerModelVersion } from '../lib/use-cases/register-model';
import type { RegisterModelDeps } from '../lib/use-cases/register-model';

/** The files a shipped model's folder serves: its ONNX file, and a recognizer's alphabet. */
const filesOf = (folder: string, manifest: { file: string; postprocess: { alphabetFile?: string } }) =>
  Promise.all(
    [manifest.file, ...(manifest.postprocess.alphabetFile ? [manifest.postprocess.alphabetFile] : [])].map(
      (name) => describeModelFile(join(folder, name)),
    ),
  );

/**
 * Registers the models under `models/` as the shared examples every owner sees, through the same
 * use cases and upload links an owner's registration goes through (files uploaded, then checked
 * by a worker), once:
 * a version already registered is left as it is.
 */
export const registerExampleModels = async (
  modelsDir: string,
  deps: RegisterModelDeps,
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
    const { version, uploads } = await registerModelVersion(
      sharedModelOwner,
      manifest.name,
      { version: manifest.version, onnxFile: manifest.file, files, manifest },
      deps,
    );
    const multipart = [];
    for (const upload of uploads) {
      const parts = await uploadThroughLink(join(folder, upload.name), upload);
      if (parts) multipart.push(parts);
    }
    await finishModelVersion(sharedModelOwner, manifest.name, version.version, { multipart }, deps);
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
