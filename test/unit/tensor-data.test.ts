import { jsonOfOrtData, toOrtData } from '../../gpu-container/src/tensor-data';

describe('toOrtData', () => {
  it('writes BOOL as bytes, FP16 as half-float bits and INT64 as a BigInt64Array', () => {
    expect(toOrtData('BOOL', [true, false, true])).toEqual(Uint8Array.from([1, 0, 1]));
    expect(toOrtData('FP16', [1, -2, 0.1])).toEqual(Uint16Array.from([0x3c00, 0xc000, 0x2e66]));
    expect(toOrtData('INT64', [-(2n ** 63n), 5n])).toEqual(BigInt64Array.from([-(2n ** 63n), 5n]));
    expect(toOrtData('UINT64', [2n ** 64n - 1n])).toEqual(BigUint64Array.from([2n ** 64n - 1n]));
    expect(toOrtData('BYTES', ['a', 'b'])).toEqual(['a', 'b']);
  });

  it('writes the other integer types into their own typed arrays', () => {
    expect(toOrtData('INT8', [-128, 127])).toEqual(Int8Array.from([-128, 127]));
    expect(toOrtData('UINT32', [4294967295])).toEqual(Uint32Array.from([4294967295]));
  });
});

describe('jsonOfOrtData', () => {
  it('writes FP32 as the shortest decimal that reads back as the same float32', () => {
    const data = Float32Array.from([0.1, 1 / 3, 16777216, -2.5e-38]);

    expect(jsonOfOrtData('FP32', data)).toEqual([0.1, 0.33333334, 16777216, -2.5e-38]);
  });

  it('writes FP16 bits as numbers, shortest first', () => {
    expect(jsonOfOrtData('FP16', Uint16Array.from([0x2e66, 0x3c00, 0x7bff, 0x0001]))).toEqual([
      0.1, 1, 65500, 6e-8,
    ]);
  });

  it('writes INT64 and UINT64 as numbers while safe, and as decimal strings past 2^53', () => {
    const int64 = BigInt64Array.from([-5n, 2n ** 53n - 1n, 2n ** 53n, -(2n ** 63n)]);

    expect(jsonOfOrtData('INT64', int64)).toEqual([
      -5,
      9007199254740991,
      '9007199254740992',
      '-9223372036854775808',
    ]);
    expect(jsonOfOrtData('UINT64', BigUint64Array.from([2n ** 64n - 1n]))).toEqual(['18446744073709551615']);
  });

  it('writes NaN and infinities, which JSON lacks, as strings', () => {
    expect(jsonOfOrtData('FP32', Float32Array.from([Number.NaN, -Infinity]))).toEqual(['NaN', '-Infinity']);
    expect(jsonOfOrtData('FP16', Uint16Array.from([0x7c00]))).toEqual(['Infinity']);
    expect(jsonOfOrtData('FP64', Float64Array.from([Infinity, 1]))).toEqual(['Infinity', 1]);
  });

  it('writes BOOL as true and false, and strings and other integers as they are', () => {
    expect(jsonOfOrtData('BOOL', Uint8Array.from([1, 0]))).toEqual([true, false]);
    expect(jsonOfOrtData('BYTES', ['x', ''])).toEqual(['x', '']);
    expect(jsonOfOrtData('UINT8', Uint8Array.from([255]))).toEqual([255]);
    expect(jsonOfOrtData('FP64', Float64Array.from([0.1]))).toEqual([0.1]);
  });
});
