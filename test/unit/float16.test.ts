import { floatToHalf, halfToFloat } from '../../gpu-container/src/float16';

const isNaNBits = (bits: number) => (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;

/** Every positive finite half, in increasing order: 0x0000 to 0x7bff. */
const positiveFinite = Array.from({ length: 0x7c00 }, (_, bits) => bits);

describe('halfToFloat and floatToHalf', () => {
  it('round-trip every one of the 65,536 bit patterns but NaNs', () => {
    const mismatches = Array.from({ length: 0x10000 }, (_, bits) => bits).filter(
      (bits) => !isNaNBits(bits) && floatToHalf(halfToFloat(bits)) !== bits,
    );

    expect(mismatches).toEqual([]);
  });

  it('decode known values', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x0400)).toBe(2 ** -14);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('encode known values to the nearest half', () => {
    expect(floatToHalf(0.1)).toBe(0x2e66);
    expect(floatToHalf(1 / 3)).toBe(0x3555);
    expect(floatToHalf(-0)).toBe(0x8000);
    expect(isNaNBits(floatToHalf(Number.NaN))).toBe(true);
  });

  it('round a value exactly between two halves to the one with an even last bit', () => {
    const ties = positiveFinite.slice(0, -1).filter((bits) => {
      const midpoint = (halfToFloat(bits) + halfToFloat(bits + 1)) / 2;
      const even = bits % 2 === 0 ? bits : bits + 1;
      return floatToHalf(midpoint) !== even || floatToHalf(-midpoint) !== (even | 0x8000);
    });

    expect(ties).toEqual([]);
  });

  it('round a value just past the midpoint up, and just before it down', () => {
    const wrong = positiveFinite.slice(1, -1).filter((bits) => {
      const here = halfToFloat(bits);
      const up = (here + halfToFloat(bits + 1)) / 2;
      const down = (here + halfToFloat(bits - 1)) / 2;
      return floatToHalf(up * (1 + 2 ** -40)) !== bits + 1 || floatToHalf(down * (1 + 2 ** -40)) !== bits;
    });

    expect(wrong).toEqual([]);
  });

  it('overflow to infinity from 65520 on, as IEEE 754 rounds', () => {
    expect(floatToHalf(65519.99)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00);
    expect(floatToHalf(-1e9)).toBe(0xfc00);
    expect(floatToHalf(Infinity)).toBe(0x7c00);
  });

  it('round the smallest values to subnormals or zero', () => {
    expect(floatToHalf(2 ** -25)).toBe(0);
    expect(floatToHalf(2 ** -25 * 1.001)).toBe(1);
    expect(floatToHalf(2 ** -14 * (1 - 2 ** -12))).toBe(0x0400);
    expect(floatToHalf(-(2 ** -30))).toBe(0x8000);
  });
});
