import { InvalidInput } from '../errors';

/** The bytes of one file that hold records: from `start` (0, or the end of a CSV header) to its end. */
export interface FileSpan {
  start: number;
  end: number;
}

export interface CutOptions {
  /** No shard is planned larger than this, unless `maxShards` forces it. */
  targetShardBytes: number;
  /** The most shards across all files; at least one a file. */
  maxShards: number;
}

/** Shard `[start, end)` of file `file`; `first` when it is the file's first shard. */
export interface ByteCut {
  file: number;
  start: number;
  end: number;
  first: boolean;
}

const shardsOf = (bytes: number, cap: number) => Math.max(1, Math.ceil(bytes / cap));

/**
 * The largest shard size that plans every file within `maxShards`: `targetShardBytes`, or the
 * smallest size above it that fits (a binary search; the count only falls as the size grows).
 */
const shardCapOf = (spans: readonly FileSpan[], options: CutOptions): number => {
  const count = (cap: number) => spans.reduce((sum, span) => sum + shardsOf(span.end - span.start, cap), 0);
  let low = options.targetShardBytes;
  if (count(low) <= options.maxShards) return low;
  let high = Math.max(low, ...spans.map((span) => span.end - span.start));
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (count(middle) <= options.maxShards) high = middle;
    else low = middle + 1;
  }
  return low;
};

/**
 * Cuts files into shards by bytes alone, reading none of them: each file gets as many shards as
 * its size needs at the target size (at least one), and its bytes are split into that many
 * nearly equal ranges (they differ by at most one byte), so a job's array children get the same
 * amount of work. Cuts fall anywhere: the worker moves each to the next record boundary
 * (`alignedRangeOf`). Offsets are computed with BigInt, exact past 2^53 / shard count.
 */
export const cutIntoShards = (spans: readonly FileSpan[], options: CutOptions): ByteCut[] => {
  const positive = (value: number) => Number.isSafeInteger(value) && value > 0;
  if (!positive(options.targetShardBytes) || !positive(options.maxShards)) {
    throw new InvalidInput(
      'INVALID_SHARD_OPTIONS',
      `targetShardBytes and maxShards must be positive integers (got ${options.targetShardBytes} and ${options.maxShards}).`,
    );
  }
  if (spans.length > options.maxShards) {
    throw new InvalidInput(
      'INVALID_SHARD_OPTIONS',
      `${spans.length} files need at least ${spans.length} shards; maxShards is ${options.maxShards}.`,
    );
  }
  const cap = shardCapOf(spans, options);
  const cuts: ByteCut[] = [];
  spans.forEach((span, file) => {
    const bytes = span.end - span.start;
    const count = shardsOf(bytes, cap);
    const offset = (i: number) => span.start + Number((BigInt(i) * BigInt(bytes)) / BigInt(count));
    for (let i = 0; i < count; i++) {
      cuts.push({ file, start: offset(i), end: offset(i + 1), first: i === 0 });
    }
  });
  return cuts;
};
