import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { join, resolve } from 'node:path';
import { checksumOf, formatModelRef } from '../../lib/domain/model-version';
import type { ModelVersion } from '../../lib/domain/model-version';
import { logger } from '../../lib/logger';
import type { ObjectStore } from '../../lib/ports/object-store';
import { acquireLock, keepFresh, releaseLock, tryLock } from './host-lock';
import type { HeldLock, LockTiming } from './host-lock';
import { ChecksumMismatch, downloadModelVersion } from './model-download';

/**
 * The worker's local copy of model versions, shared by every worker process on the host (on
 * Batch, a host volume: array children and later jobs on a warm instance reuse it).
 *
 * Layout of `dir`:
 * - `<checksum>/`: a complete, verified version, its files under their registered names (ONNX
 *   Runtime opens `<checksum>/<onnxFile>` and finds external-data files beside it). The folder's
 *   mtime is its last use.
 * - `<checksum>.lock`: held (host-lock.ts) by the one process that downloads, starts using or
 *   evicts that version, so that no two download it and none uses one being evicted.
 * - `.partial-<checksum>-<random>/`: a download under way. It becomes `<checksum>/` by one
 *   `rename`, once every file is verified, so no one ever sees a half-written version.
 * - `.trash-<checksum>-<random>/`: an evicted version, being deleted.
 *
 * In use, never evicted: a process that got a folder refreshes its mtime every `heartbeatMs`
 * while it lives, so a folder touched within `staleLockMs` may be open in some process, and one
 * that is older is held by no live one. Per-process marker files with pids were the alternative;
 * but each container has its own pid namespace, where another container's pid cannot be checked,
 * so they would go stale by age anyway, which the mtime says already. A deleted file stays
 * readable by whoever has it open or mapped; the lease covers the time between handing out the
 * path and ONNX Runtime opening the files.
 *
 * Recency: the cap is soft. After a download, least recently used versions are evicted until the
 * total size of the cached files is at most `maxBytes`, sparing the version just fetched and any
 * in use; the cache can therefore exceed the cap while they alone exceed it.
 */

export interface ModelCacheOptions {
  /** The cache folder (LONGTAIL_MODEL_CACHE_DIR). */
  dir: string;
  /** Evict least recently used versions past this total of file sizes (LONGTAIL_MODEL_CACHE_MAX_GB). */
  maxBytes: number;
  objects: ObjectStore;
  /** How long to wait while another process downloads the same version. Default 30 min, for multi-GB models. */
  lockWaitMs?: number;
  /**
   * A lock, partial download or version folder not refreshed for this long belongs to no live
   * process: the lock is taken over, the partial folder removed, the version may be evicted.
   * Default 10 min.
   */
  staleLockMs?: number;
  /** How often a process refreshes what it holds: its lock and partial folder, the versions it uses. Default 30 s. */
  heartbeatMs?: number;
  /** How often a waiting process looks at the lock again. Default 250 ms. */
  pollMs?: number;
  /** The clock that stamps and judges mtimes. */
  now?: () => number;
}

export type CachedModelVersion = Pick<ModelVersion, 'name' | 'version' | 'checksum' | 'files' | 'location'>;

interface CacheSettings extends LockTiming {
  dir: string;
  maxBytes: number;
  objects: ObjectStore;
  heartbeatMs: number;
}

const partialPrefix = '.partial-';
const trashPrefix = '.trash-';
const checksumPattern = /^[0-9a-f]{64}$/;

const settingsOf = (options: ModelCacheOptions): CacheSettings => {
  const settings = {
    dir: resolve(options.dir),
    maxBytes: options.maxBytes,
    objects: options.objects,
    waitMs: options.lockWaitMs ?? 30 * 60_000,
    staleMs: options.staleLockMs ?? 10 * 60_000,
    heartbeatMs: options.heartbeatMs ?? 30_000,
    pollMs: options.pollMs ?? 250,
    now: options.now ?? Date.now,
  };
  // A live holder must refresh several times within staleMs, or waiters would take over its work.
  if (settings.heartbeatMs * 3 > settings.staleMs) {
    throw new Error(
      `The model cache's heartbeat (${settings.heartbeatMs} ms) must be at most a third of staleLockMs (${settings.staleMs} ms).`,
    );
  }
  return settings;
};

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;
const uniqueSuffix = () => randomBytes(6).toString('hex');

/** Marks a folder used now; false when it does not exist. */
const touch = async (folder: string, now: () => number) => {
  try {
    await utimes(folder, new Date(now()), new Date(now()));
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
};

/** Moves the verified download into place; another process may have placed the same version after a takeover. */
const placeVersion = async (partial: string, folder: string) => {
  try {
    await rename(partial, folder);
  } catch (error) {
    if (errorCode(error) !== 'ENOTEMPTY' && errorCode(error) !== 'EEXIST') throw error;
  }
};

/** Downloads the version into a partial folder and renames it into place, under `lock`. */
const download = async (
  version: CachedModelVersion,
  folder: string,
  lock: HeldLock,
  cache: CacheSettings,
) => {
  const partial = join(cache.dir, `${partialPrefix}${version.checksum}-${uniqueSuffix()}`);
  await mkdir(partial);
  const stopRefreshing = keepFresh([lock.path, partial], cache.heartbeatMs, cache.now);
  const started = Date.now();
  try {
    await downloadModelVersion(version, partial, cache.objects);
    await placeVersion(partial, folder);
    logger.info('Downloaded model version into the cache', {
      model: formatModelRef(version),
      checksum: version.checksum,
      bytes: version.files.reduce((sum, file) => sum + file.size, 0),
      seconds: (Date.now() - started) / 1000,
    });
  } finally {
    stopRefreshing();
    // Nothing is left once renamed; a failed or mismatched download leaves nothing either.
    await rm(partial, { recursive: true, force: true });
  }
};

interface CachedEntry {
  checksum: string;
  path: string;
  bytes: number;
  usedAt: number;
}

const describeVersion = async (dir: string, checksum: string): Promise<CachedEntry | undefined> => {
  const path = join(dir, checksum);
  try {
    const [folder, files] = await Promise.all([stat(path), readdir(path)]);
    const sizes = await Promise.all(files.map(async (file) => (await stat(join(path, file))).size));
    return { checksum, path, bytes: sizes.reduce((a, b) => a + b, 0), usedAt: folder.mtimeMs };
  } catch (error) {
    // Evicted by another process meanwhile.
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
};

/**
 * Renames the version to a trash folder unless it is in use, under its lock so that no process
 * starts using it meanwhile. Returns the trash folder, 'gone' when another process evicted it
 * first, or undefined when it stays.
 */
const moveToTrash = async (
  entry: CachedEntry,
  cache: CacheSettings,
): Promise<string | 'gone' | undefined> => {
  const lock = await tryLock(`${entry.path}.lock`, cache.now);
  // Being downloaded, started or evicted by another process: leave it.
  if (!lock) return undefined;
  try {
    const current = await stat(entry.path).catch(() => undefined);
    if (!current) return 'gone';
    if (cache.now() - current.mtimeMs <= cache.staleMs) return undefined;
    const trash = join(cache.dir, `${trashPrefix}${entry.checksum}-${uniqueSuffix()}`);
    await rename(entry.path, trash);
    // Fresh, so that no other process's scratch clean-up deletes it at the same time as this one.
    await touch(trash, cache.now);
    return trash;
  } finally {
    await releaseLock(lock);
  }
};

/** Evicts the entry; true when its bytes are no longer in the cache. */
const evict = async (entry: CachedEntry, cache: CacheSettings) => {
  const trash = await moveToTrash(entry, cache);
  if (trash === undefined) return false;
  if (trash === 'gone') return true;
  await rm(trash, { recursive: true, force: true });
  logger.info('Evicted model version from the cache', { checksum: entry.checksum, bytes: entry.bytes });
  return true;
};

/** Partial downloads and trash that no live process refreshed within staleLockMs: left by crashes. */
const removeAbandonedScratch = async (entries: Dirent[], cache: CacheSettings) => {
  const scratch = entries.filter(
    (entry) =>
      entry.isDirectory() && (entry.name.startsWith(partialPrefix) || entry.name.startsWith(trashPrefix)),
  );
  for (const entry of scratch) {
    const path = join(cache.dir, entry.name);
    const info = await stat(path).catch(() => undefined);
    if (info && cache.now() - info.mtimeMs > cache.staleMs) await rm(path, { recursive: true, force: true });
  }
};

/** Evicts least recently used versions until the cache holds at most maxBytes, sparing `keep`. */
const evictPastCap = async (keep: string, cache: CacheSettings) => {
  const entries = await readdir(cache.dir, { withFileTypes: true });
  await removeAbandonedScratch(entries, cache);
  const versions = (
    await Promise.all(
      entries
        .filter((entry) => entry.isDirectory() && checksumPattern.test(entry.name))
        .map((entry) => describeVersion(cache.dir, entry.name)),
    )
  ).filter((entry): entry is CachedEntry => entry !== undefined);
  let total = versions.reduce((sum, entry) => sum + entry.bytes, 0);
  const leastRecentFirst = versions
    .filter((entry) => entry.checksum !== keep)
    .sort((a, b) => a.usedAt - b.usedAt);
  for (const entry of leastRecentFirst) {
    if (total <= cache.maxBytes) return;
    if (await evict(entry, cache)) total -= entry.bytes;
  }
};

/**
 * The version's folder: there already (a use), or downloaded and verified under the version's
 * lock, after which the cache is trimmed to its cap.
 */
const fetchVersion = async (version: CachedModelVersion, cache: CacheSettings): Promise<string> => {
  // The checksum names the folder: it must be the one of these files, or the cache would lie.
  const expected = checksumOf(version.files);
  if (version.checksum !== expected) {
    throw new ChecksumMismatch(
      'CHECKSUM_MISMATCH',
      `${formatModelRef(version)}: its checksum ${version.checksum} is not the one of its files (${expected}).`,
    );
  }
  await mkdir(cache.dir, { recursive: true });
  const folder = join(cache.dir, version.checksum);
  const lock = await acquireLock(`${folder}.lock`, cache, `model ${formatModelRef(version)}`);
  let downloaded = false;
  try {
    if (!(await touch(folder, cache.now))) {
      await download(version, folder, lock, cache);
      await touch(folder, cache.now);
      downloaded = true;
    }
  } finally {
    await releaseLock(lock);
  }
  // The version is ready: a cache that cannot be trimmed now is no reason to fail the job.
  if (downloaded) {
    await evictPastCap(version.checksum, cache).catch((error: unknown) =>
      logger.warn('Could not trim the model cache', { dir: cache.dir, error }),
    );
  }
  return folder;
};

interface Held {
  folder: Promise<string>;
  /** Stops refreshing the folder's mtime. */
  stop?: () => void;
}

/** The versions this process has asked for, by cache folder and checksum. */
const held = new Map<string, Held>();

/**
 * The local folder holding the version's files: downloaded once per host, verified, never
 * half-written. The same process asking again gets the same folder at the cost of one mtime
 * update; from then on the process keeps the folder from eviction while it lives.
 *
 * Throws `ChecksumMismatch` when the files are not the registered bytes (nothing is cached, and a
 * later call downloads again), and `LockTimeout` after `lockWaitMs` behind another process.
 */
export const cachedModelFolder = async (
  version: CachedModelVersion,
  options: ModelCacheOptions,
): Promise<string> => {
  const cache = settingsOf(options);
  const key = `${cache.dir}\0${version.checksum}`;
  const known = held.get(key);
  if (known) {
    const folder = await known.folder;
    if (await touch(folder, cache.now)) return folder;
    // Removed behind this process's back (by hand, or while it was stopped): fetch it again.
    known.stop?.();
    if (held.get(key) === known) held.delete(key);
    return cachedModelFolder(version, options);
  }
  const entry: Held = { folder: fetchVersion(version, cache) };
  held.set(key, entry);
  try {
    const folder = await entry.folder;
    entry.stop = keepFresh([folder], cache.heartbeatMs, cache.now);
    return folder;
  } catch (error) {
    if (held.get(key) === entry) held.delete(key);
    throw error;
  }
};
