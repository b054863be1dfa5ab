import { cutObjects } from '../../lib/records/object-cuts';
import { mulberry32 } from '../../lib/seeded-random';

const options = { maxObjectsPerShard: 100, targetShardBytes: 1_000_000, maxShards: 50 };

const expectContiguous = (cuts: { first: number; end: number }[], count: number) => {
  expect(cuts[0]?.first).toBe(0);
  expect(cuts.at(-1)?.end).toBe(count);
  for (const [i, cut] of cuts.entries()) {
    expect(cut.end).toBeGreaterThan(cut.first);
    if (i > 0) expect(cut.first).toBe(cuts[i - 1]!.end);
  }
};

describe('cutting a list of objects into shards', () => {
  it('cuts by count when the objects are small: equal shares', () => {
    const cuts = cutObjects(new Array<number>(1000).fill(3000), options);

    expect(cuts).toHaveLength(10);
    expectContiguous(cuts, 1000);
    expect(cuts.map((cut) => cut.end - cut.first)).toEqual(new Array<number>(10).fill(100));
  });

  it('cuts by bytes when the objects are large, balancing bytes and count', () => {
    // 20 scans of 900 kB then 180 crops of 5 kB: 18.9 MB wants 19 shards by bytes.
    const sizes = [...new Array<number>(20).fill(900_000), ...new Array<number>(180).fill(5_000)];
    const cuts = cutObjects(sizes, options);

    expect(cuts).toHaveLength(19);
    expectContiguous(cuts, sizes.length);
    const bytes = cuts.map((cut) => sizes.slice(cut.first, cut.end).reduce((a, b) => a + b, 0));
    // No shard carries more than about two shares of the weight.
    expect(Math.max(...bytes)).toBeLessThan(2 * (18_900_000 / 19));
  });

  it('keeps within maxShards and never plans an empty shard, whatever the sizes', () => {
    const random = mulberry32(3);
    for (let round = 0; round < 200; round++) {
      const count = 1 + Math.floor(random() * 300);
      const sizes = Array.from({ length: count }, () =>
        random() < 0.1 ? 5_000_000 : Math.floor(random() * 10_000),
      );
      const maxShards = 1 + Math.floor(random() * 40);
      const cuts = cutObjects(sizes, { ...options, maxShards });

      expect(cuts.length).toBeLessThanOrEqual(Math.min(maxShards, count));
      expectContiguous(cuts, count);
    }
  });

  it('cuts objects of unknown size (0) by count, and an empty list into nothing', () => {
    expect(cutObjects(new Array<number>(250).fill(0), options).map((c) => c.end - c.first)).toEqual([
      83, 84, 83,
    ]);
    expect(cutObjects([], options)).toEqual([]);
  });
});
