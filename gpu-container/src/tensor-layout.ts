/**
 * Where each record's elements sit in a batch tensor whose records lie side by side along one
 * axis. Row-major, a record's elements come in runs: one run per index of the axes before the
 * batch axis, each `rows × (the size of the axes after it)` long. Along the first axis that is one
 * run a record, and batching is plain concatenation.
 */

/** `length` elements from `from` in the record's own data to `to` in the batch's. */
export interface Run {
  from: number;
  to: number;
  length: number;
}

const product = (sizes: readonly number[]) => sizes.reduce((total, size) => total * size, 1);

export const sum = (counts: readonly number[]) => counts.reduce((total, count) => total + count, 0);

/** The shape with another size along the axis: a batch's, or one record's share of it. */
export const withSize = (shape: readonly number[], axis: number, size: number): number[] =>
  shape.map((each, i) => (i === axis ? size : each));

/** Each record's runs, for records of `rows` rows each in a batch of `shape` (any size along `axis`). */
export const runsAlongAxis = (shape: readonly number[], axis: number, rows: readonly number[]): Run[][] => {
  const outer = product(shape.slice(0, axis));
  const inner = product(shape.slice(axis + 1));
  const total = sum(rows);
  let before = 0;
  return rows.map((count) => {
    const runs = Array.from({ length: outer }, (_, index) => ({
      from: index * count * inner,
      to: (index * total + before) * inner,
      length: count * inner,
    }));
    before += count;
    return runs;
  });
};

/** The batch's elements: each record's put where its runs say. */
export const concatenateRuns = <T>(parts: readonly (readonly T[])[], runs: readonly Run[][]): T[] => {
  const batch: T[] = new Array<T>(parts.reduce((size, part) => size + part.length, 0));
  parts.forEach((part, record) => {
    for (const run of runs[record] ?? []) {
      for (let k = 0; k < run.length; k++) batch[run.to + k] = part[run.from + k] as T;
    }
  });
  return batch;
};

/** Each record's elements, taken out of the batch where its runs say. */
export const splitRuns = <T>(batch: readonly T[], runs: readonly Run[][]): T[][] =>
  runs.map((recordRuns) => recordRuns.flatMap((run) => batch.slice(run.to, run.to + run.length)));

/** A nested value type: a scalar or arrays of them. */
export type Nested<T> = T | Nested<T>[];

/** Row-major elements as nested arrays of `shape`; a rank-0 shape gives the scalar itself. */
export const nest = <T>(values: readonly T[], shape: readonly number[]): Nested<T> => {
  if (shape.length === 0) return values[0] as T;
  const [size = 0, ...rest] = shape;
  const stride = product(rest);
  return Array.from({ length: size }, (_, index) =>
    nest(values.slice(index * stride, (index + 1) * stride), rest),
  );
};
