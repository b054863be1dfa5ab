/**
 * One worker process of test/unit/model-cache.test.ts, which starts several against one cache:
 *
 *   node --import tsx test/support/model-cache-child.ts <fixture.json> <cache dir> <read log> [stall]
 *
 * The fixture holds a version record and its files (base64). The child prints `ready`, waits for
 * a line on stdin (so that the parent starts every child's fetch at once), fetches the version
 * into the cache through a slow store that logs each read to <read log>, and prints the folder and
 * the SHA-256 of each file in it as JSON. With `stall`, the store never serves a byte: the child
 * holds the version's lock until it is killed.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cachedModelFolder } from '../../gpu-container/src/model-cache';
import { ModelFileStore, sha256 } from './model-files';
import type { StoredModelVersion } from './model-files';

export interface ChildFixture {
  version: StoredModelVersion;
  files: Record<string, string>;
}

export interface ChildResult {
  folder: string;
  digests: Record<string, string>;
}

const main = async () => {
  const [fixturePath = '', cacheDir = '', readLog = '', mode] = process.argv.slice(2);
  const fixture = JSON.parse(readFileSync(fixturePath, 'utf8')) as ChildFixture;
  const files = Object.fromEntries(
    Object.entries(fixture.files).map(([name, base64]) => [name, Buffer.from(base64, 'base64')]),
  );
  const objects = new ModelFileStore({ chunkBytes: 4096, chunkDelayMs: 5, readLog });
  objects.putVersion(fixture.version, files);
  if (mode === 'stall') for (const name of Object.keys(files)) objects.holdBack(name);

  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.destroy();

  const folder = await cachedModelFolder(fixture.version, { dir: cacheDir, maxBytes: 2 ** 30, objects });
  const names = await readdir(folder);
  const digests = Object.fromEntries(
    await Promise.all(names.map(async (name) => [name, sha256(await readFile(join(folder, name)))])),
  );
  process.stdout.write(`${JSON.stringify({ folder, digests } satisfies ChildResult)}\n`);
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
