import { cutIntoShards } from '../../lib/records/shard-cuts';

const mib = 1024 * 1024;

/**
 * The shape of the 77 MB job of issue 15: 30,000 JSON lines of text crops of varying size
 * (700 B to 4.5 KiB, about 2.6 KiB on average), as line lengths: deterministic, no bytes.
 */
const cropLineLengths = () =>
  Array.from({ length: 30_000 }, (_, i) => 700 + (((i * 2_654_435_761) % 2 ** 32) % 3_900));

/** How many lines start in each shard: the records its worker reads. */
const recordsPerShard = (lengths: number[], cuts: { start: number; end: number }[]) => {
  const counts = cuts.map(() => 0);
  let offset = 0;
  let shard = 0;
  for (const length of lengths) {
    while (offset >= cuts[shard]!.end) shard++;
    counts[shard]!++;
    offset += length;
  }
  return counts;
};

describe('cutIntoShards', () => {
  it('cuts the issue’s 77 MB file into two shards of equal bytes and nearly equal records', () => {
    const lengths = cropLineLengths();
    const size = lengths.reduce((sum, length) => sum + length, 0);
    expect(size / 1e6).toBeCloseTo(77, -1);

    const cuts = cutIntoShards([{ start: 0, end: size }], { targetShardBytes: 64 * mib, maxShards: 100 });

    const bytes = cuts.map((cut) => cut.end - cut.start);
    const records = recordsPerShard(lengths, cuts);
    expect(cuts).toHaveLength(2);
    expect(Math.max(...bytes) - Math.min(...bytes)).toBeLessThanOrEqual(1);
    // Was 26,270 and 3,730 (64 MiB plus a remainder): now within 1% of each other.
    expect(records.reduce((sum, count) => sum + count, 0)).toBe(30_000);
    expect(Math.max(...records) / Math.min(...records)).toBeLessThan(1.01);
  });

  it('keeps every shard within the target, all of a file’s shards within a byte of each other', () => {
    const cuts = cutIntoShards([{ start: 0, end: 10 * mib + 1 }], { targetShardBytes: mib, maxShards: 100 });

    expect(cuts).toHaveLength(11);
    const sizes = cuts.map((cut) => cut.end - cut.start);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(mib);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    cuts.slice(1).forEach((cut, i) => expect(cut.start).toBe(cuts[i]!.end));
    expect(cuts.map((cut) => cut.first)).toEqual([true, ...Array(10).fill(false)]);
  });

  it('grows the shard size evenly when maxShards would be exceeded, and shares shards across files by size', () => {
    const cuts = cutIntoShards(
      [
        { start: 0, end: 100 * mib },
        { start: 0, end: 10 * mib },
        { start: 0, end: 10 * mib },
      ],
      { targetShardBytes: mib, maxShards: 12 },
    );

    expect(cuts.length).toBeLessThanOrEqual(12);
    const perFile = [0, 1, 2].map((file) => cuts.filter((cut) => cut.file === file));
    expect(perFile.map((shards) => shards.length)).toEqual([10, 1, 1]);
    // No shard above the 10 MiB a small file must be whole in anyway.
    expect(Math.max(...cuts.map((cut) => cut.end - cut.start))).toBeLessThanOrEqual(10 * mib);
  });

  it('starts a file’s shards after its header and keeps a tiny file one shard', () => {
    expect(cutIntoShards([{ start: 40, end: 100 }], { targetShardBytes: mib, maxShards: 10 })).toEqual([
      { file: 0, start: 40, end: 100, first: true },
    ]);
  });

  it('cuts exactly past 2^53 / shard count: a terabyte into 10,000 shards', () => {
    const size = 1024 ** 4 + 12_345;
    const cuts = cutIntoShards([{ start: 0, end: size }], { targetShardBytes: 64 * mib, maxShards: 10_000 });

    expect(cuts).toHaveLength(10_000);
    expect(cuts.at(-1)!.end).toBe(size);
    const sizes = cuts.map((cut) => cut.end - cut.start);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('refuses a non-positive target or more files than maxShards', () => {
    expect(() => cutIntoShards([{ start: 0, end: 1 }], { targetShardBytes: 0, maxShards: 1 })).toThrow(
      'targetShardBytes and maxShards must be positive integers',
    );
    expect(() =>
      cutIntoShards(
        [
          { start: 0, end: 1 },
          { start: 0, end: 1 },
        ],
        { targetShardBytes: 1, maxShards: 1 },
      ),
    ).toThrow('2 files need at least 2 shards');
  });
});
