import { concatenateRuns, nest, runsAlongAxis, splitRuns } from '../../gpu-container/src/tensor-layout';

describe('runsAlongAxis', () => {
  it('gives each record one run when the batch axis is the first: plain concatenation', () => {
    const runs = runsAlongAxis([3, 4], 0, [2, 1]);

    expect(runs).toEqual([[{ from: 0, to: 0, length: 8 }], [{ from: 0, to: 8, length: 4 }]]);
  });

  it('gives each record one run per index of the axes before a later batch axis', () => {
    const runs = runsAlongAxis([3, 3], 1, [1, 2]);

    expect(runs).toEqual([
      [
        { from: 0, to: 0, length: 1 },
        { from: 1, to: 3, length: 1 },
        { from: 2, to: 6, length: 1 },
      ],
      [
        { from: 0, to: 1, length: 2 },
        { from: 2, to: 4, length: 2 },
        { from: 4, to: 7, length: 2 },
      ],
    ]);
  });
});

describe('concatenateRuns and splitRuns', () => {
  it('stack records along a middle axis and take them apart again', () => {
    // Record a is [2, 1, 2], record b [2, 2, 2]: batched along axis 1 into [2, 3, 2].
    const a = ['a0', 'a1', 'a2', 'a3'];
    const b = ['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7'];
    const runs = runsAlongAxis([2, 3, 2], 1, [1, 2]);

    const batch = concatenateRuns([a, b], runs);

    expect(batch).toEqual(['a0', 'a1', 'b0', 'b1', 'b2', 'b3', 'a2', 'a3', 'b4', 'b5', 'b6', 'b7']);
    expect(splitRuns(batch, runs)).toEqual([a, b]);
  });
});

describe('nest', () => {
  it('nests row-major values in a shape', () => {
    expect(nest([1, 2, 3, 4, 5, 6], [2, 3])).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(nest([1, 2, 3, 4], [2, 1, 2])).toEqual([[[1, 2]], [[3, 4]]]);
  });

  it('gives a rank-0 value as the scalar itself, and an empty axis as an empty list', () => {
    expect(nest([7], [])).toBe(7);
    expect(nest([], [0, 3])).toEqual([]);
  });
});
