import { readFile, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObjectRecord } from './store';

/** What the flat layout kept beside each body: `<bucket>/<sha256(key)>.json`. */
interface FlatMeta {
  key: string;
  etag: string;
  contentType?: string;
  contentLength?: number;
  metadata?: Record<string, string>;
  lastModified: string;
}

export interface MigrationTarget {
  createBucket(name: string): Promise<void>;
  /** Takes `file` (renamed, never read) as the body of `key`; nothing if the file is gone. */
  adopt(bucket: string, key: string, file: string, record: Omit<ObjectRecord, 'blob'>): Promise<void>;
}

/**
 * The store before this one kept `<dir>/<bucket>/<sha256(key)>.bin` with a `.json` beside it.
 * Each such folder (bucket names cannot start with `_`, the store's own folders do) is moved
 * into the store once: bodies by rename, only the small `.json` files read. The `.json` goes
 * last, so a migration cut short resumes at the next start.
 */
export const migrateFlatLayout = async (dir: string, target: MigrationTarget) => {
  let moved = 0;
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries.filter((e) => e.isDirectory() && !e.name.startsWith('_'))) {
    const bucket = entry.name;
    const folder = join(dir, bucket);
    await target.createBucket(bucket);
    for (const name of (await readdir(folder)).filter((n) => n.endsWith('.json'))) {
      const meta = JSON.parse(await readFile(join(folder, name), 'utf8')) as FlatMeta;
      const body = join(folder, name.replace(/\.json$/, '.bin'));
      await target.adopt(bucket, meta.key, body, {
        size: meta.contentLength ?? 0,
        etag: meta.etag,
        lastModified: new Date(meta.lastModified).toISOString(),
        headers: { 'content-type': meta.contentType ?? 'binary/octet-stream' },
        metadata: meta.metadata ?? {},
      });
      await rm(join(folder, name), { force: true });
      moved += 1;
    }
    // Bodies without a .json were never committed by the old store.
    for (const name of await readdir(folder)) await rm(join(folder, name), { force: true });
    await rmdir(folder);
  }
  return moved;
};
