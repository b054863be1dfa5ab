import { InvalidInput } from '../errors';
import type { RecordFormat } from './formats';
import { RecordScanner, bytesOf } from './scanner';

/**
 * Bytes [start, end) of an object that one array child processes. `start` is a record boundary
 * (the object's start, the end of the header, or the end of the previous shard) and `firstLine`
 * is the line number of the byte at `start`: pass it to `decodeRecords` as `firstLine`. Blank lines
 * between shards belong to the shard after them.
 */
export interface ShardRange {
  index: number;
  start: number;
  end: number;
  firstLine: number;
  records: number;
}

export interface ShardPlan {
  shards: ShardRange[];
  totalRecords: number;
  /** The CSV header row's bytes (a BOM included) when `csvHeader` was asked for and found. */
  header?: { start: number; end: number };
}

export interface PlanOptions {
  /** Close a shard at the first record boundary at or after this many bytes. */
  targetShardBytes: number;
  /** The most shards to plan: the target grows when the object needs more. */
  maxShards: number;
  /** CSV only: the first record is a header, in no shard and not counted. */
  csvHeader: boolean;
  /** The object's size when known (S3 ContentLength): sizes the target in one go. */
  totalBytes?: number;
}

type OpenShard = Omit<ShardRange, 'index'>;

const mergePair = (first: OpenShard, second: OpenShard): OpenShard => ({
  start: first.start,
  end: second.end,
  firstLine: first.firstLine,
  records: first.records + second.records,
});

const checkOptions = (options: PlanOptions) => {
  const positive = (value: number | undefined) =>
    value !== undefined && Number.isSafeInteger(value) && value > 0;
  if (!positive(options.targetShardBytes) || !positive(options.maxShards)) {
    throw new InvalidInput(
      'INVALID_SHARD_OPTIONS',
      `targetShardBytes and maxShards must be positive integers (got ${options.targetShardBytes} and ${options.maxShards}).`,
    );
  }
  if (
    options.totalBytes !== undefined &&
    !(Number.isSafeInteger(options.totalBytes) && options.totalBytes >= 0)
  ) {
    throw new InvalidInput('INVALID_SHARD_OPTIONS', `totalBytes must be a non-negative integer.`);
  }
};

/**
 * Splits an object into at most `maxShards` contiguous byte ranges of whole records, in one
 * streaming pass. Memory is O(maxShards): only shard ranges are kept, never record spans.
 *
 * With `totalBytes` the target is raised to ceil(totalBytes / maxShards) up front; every closed
 * shard is at least the target, so that is enough. Without it (or if it was too small), when one
 * shard too many closes, adjacent shards are merged in pairs and the target doubles, which keeps
 * every closed shard at least the target.
 */
export const splitIntoShards = async (
  source: AsyncIterable<Uint8Array>,
  format: RecordFormat,
  options: PlanOptions,
): Promise<ShardPlan> => {
  checkOptions(options);
  const { maxShards } = options;
  let target =
    options.totalBytes === undefined
      ? options.targetShardBytes
      : Math.max(options.targetShardBytes, Math.ceil(options.totalBytes / maxShards));

  const scanner = new RecordScanner(format, { offset: 0, line: 1, atObjectStart: true });
  let wantHeader = format === 'csv' && options.csvHeader;
  let header: ShardPlan['header'];
  let closed: OpenShard[] = [];
  let open: OpenShard | undefined;
  let nextStart = 0;
  let nextLine = 1;
  let totalRecords = 0;

  const closeOpen = (shard: OpenShard) => {
    closed.push(shard);
    open = undefined;
    if (closed.length <= maxShards) return;
    target *= 2;
    const merged: OpenShard[] = [];
    for (let i = 0; i + 1 < closed.length; i += 2) merged.push(mergePair(closed[i]!, closed[i + 1]!));
    // An odd one out may be smaller than the doubled target: it goes on collecting records.
    if (closed.length % 2 === 1) open = closed[closed.length - 1];
    closed = merged;
  };

  const onRecord = () => {
    if (wantHeader) {
      wantHeader = false;
      header = { start: scanner.start, end: scanner.end };
      nextStart = scanner.end;
      nextLine = scanner.endLine;
      return;
    }
    totalRecords++;
    const shard = open ?? { start: nextStart, end: nextStart, firstLine: nextLine, records: 0 };
    open = shard;
    shard.end = scanner.end;
    shard.records++;
    if (shard.end - shard.start >= target) {
      nextStart = scanner.end;
      nextLine = scanner.endLine;
      closeOpen(shard);
    }
  };

  for await (const piece of source) {
    const chunk = bytesOf(piece);
    scanner.feed(chunk);
    while (scanner.next()) onRecord();
  }
  if (scanner.finish()) onRecord();

  const shards = open === undefined ? closed : [...closed, open];
  if (shards.length > maxShards) {
    const last = shards.pop()!;
    shards.push(mergePair(shards.pop()!, last));
  }
  return {
    shards: shards.map((shard, index) => ({ index, ...shard })),
    totalRecords,
    ...(header && { header }),
  };
};

/** The inclusive HTTP Range of a shard, for S3 GetObject: `bytes=${start}-${end}`. */
export const shardBytesToRead = (shard: ShardRange): { start: number; end: number } => ({
  start: shard.start,
  end: shard.end - 1,
});
