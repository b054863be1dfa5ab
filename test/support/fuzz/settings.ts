import type fc from 'fast-check';

/**
 * How hard the fuzz tests try. `npm test` runs each at its bounded size, in seconds; FUZZ_SCALE
 * multiplies every one of them (FUZZ_SCALE=20 for the long run). FUZZ_SEED replays a run: a
 * failure prints its seed and path, and fast-check shrinks it to a small case first.
 */
export const fuzzScale = (): number => {
  const scale = Number(process.env.FUZZ_SCALE ?? '1');
  if (!Number.isFinite(scale) || scale <= 0)
    throw new Error(`FUZZ_SCALE must be a positive number, not ${process.env.FUZZ_SCALE}`);
  return scale;
};

const defaultSeed = 19;

export const fuzzSeed = (): number => {
  const seed = process.env.FUZZ_SEED;
  if (seed === undefined) return defaultSeed;
  if (seed === 'random') return Date.now() ^ (Math.random() * 0x7fffffff);
  const parsed = Number(seed);
  if (!Number.isInteger(parsed)) throw new Error(`FUZZ_SEED must be an integer or "random", not ${seed}`);
  return parsed;
};

/** fast-check parameters for a property run `baseRuns` times at scale 1. */
export const fuzzParameters = <T>(baseRuns: number): fc.Parameters<T> => ({
  seed: fuzzSeed(),
  numRuns: Math.ceil(baseRuns * fuzzScale()),
  endOnFailure: false,
});
