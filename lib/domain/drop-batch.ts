import { createHash } from 'node:crypto';

/**
 * How the objects one delivery of drop events names become jobs: image objects of the same
 * model folder are gathered into batches of at most `maxObjects` (one ManifestFile job each);
 * every other file stays one job of its own, as drops always were. Pure: no AWS, no I/O.
 */

/** Extensions that make a dropped object an image record rather than a file of records. */
export const imageExtensions = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff'] as const;

export const isImageKey = (key: string) => {
  const lower = key.toLowerCase();
  return imageExtensions.some((extension) => lower.endsWith(extension));
};

/** One object write, as S3 announced it. */
export interface DropWrite {
  bucket: string;
  /** Decoded. */
  key: string;
  /** S3's per-write sequencer: the same for a redelivered event, new for a new upload of the key. */
  sequencer: string;
  versionId?: string;
}

/** `bucket/key@version-or-sequencer`: what tells one write from a redelivery of it. */
export const writeIdOf = (write: DropWrite) =>
  `${write.bucket}/${write.key}@${write.versionId ?? write.sequencer}`;

/** Images of one model folder, at most the cap, sorted by key: one job. */
export interface ImageBatch<T extends DropWrite = DropWrite> {
  bucket: string;
  /** The folder under drop/ that names the model. */
  model: string;
  writes: T[];
}

export interface GroupedDrops<T extends DropWrite> {
  batches: ImageBatch<T>[];
  /** Everything that is not an image: a job per file, as before. */
  files: T[];
}

const compareKeys = (a: DropWrite, b: DropWrite) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * Groups the writes of a delivery. The same write announced twice (S3 and SQS both deliver at
 * least once) is kept once, so that it becomes one record. `modelOf` says which model folder a
 * key is under, or undefined for keys that start nothing (sidecars, folder markers). Two
 * writes of the same key with different sequencers are two uploads: both kept. Batches are cut
 * in key order so that the same set of writes always makes the same batches.
 */
export const groupDrops = <T extends DropWrite>(
  writes: readonly T[],
  modelOf: (key: string) => string | undefined,
  maxObjects: number,
): GroupedDrops<T> => {
  if (!Number.isInteger(maxObjects) || maxObjects < 1)
    throw new RangeError(`maxObjects must be a positive integer, got ${maxObjects}`);
  const unique = new Map<string, T>();
  for (const write of writes) if (!unique.has(writeIdOf(write))) unique.set(writeIdOf(write), write);

  const byFolder = new Map<string, ImageBatch<T>>();
  const files: T[] = [];
  for (const write of unique.values()) {
    const model = modelOf(write.key);
    if (model === undefined) continue;
    if (!isImageKey(write.key)) {
      files.push(write);
      continue;
    }
    const folder = `${write.bucket}\n${model}`;
    const group = byFolder.get(folder) ?? { bucket: write.bucket, model, writes: [] };
    group.writes.push(write);
    byFolder.set(folder, group);
  }

  const batches: ImageBatch<T>[] = [];
  for (const group of byFolder.values()) {
    const sorted = [...group.writes].sort(
      (a, b) => compareKeys(a, b) || (writeIdOf(a) < writeIdOf(b) ? -1 : 1),
    );
    for (let start = 0; start < sorted.length; start += maxObjects) {
      batches.push({ ...group, writes: sorted.slice(start, start + maxObjects) });
    }
  }
  return { batches, files };
};

/**
 * The batch's idempotency key: a hash of its sorted write ids. A redelivered batch (a retry of
 * the function) hashes the same and so answers the job it made; new writes make a new one.
 */
export const batchIdempotencyKeyOf = (batch: ImageBatch) => {
  const ids = batch.writes.map(writeIdOf).sort();
  const digest = createHash('sha256').update(ids.join('\n')).digest('hex');
  return `s3-drop-batch:${batch.model}:${digest}`;
};

/** The model folder every key of a batch is under: `drop/<model>/`. */
export const dropFolderOf = (model: string) => `drop/${model}/`;

/**
 * SageMaker's ManifestFile for the batch: the model folder as the prefix, then each key relative
 * to it, once, in key order. Outputs are then named by the path under the model folder.
 */
export const batchManifestOf = (batch: ImageBatch): [{ prefix: string }, ...string[]] => {
  const folder = dropFolderOf(batch.model);
  const keys = [...new Set(batch.writes.map((write) => write.key))];
  for (const key of keys) {
    if (!key.startsWith(folder)) throw new Error(`${key} is not under ${folder}`);
  }
  return [{ prefix: `s3://${batch.bucket}/${folder}` }, ...keys.map((key) => key.slice(folder.length))];
};
