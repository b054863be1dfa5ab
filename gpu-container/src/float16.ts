/**
 * IEEE 754 half precision (FP16), which ONNX Runtime for Node takes and gives as the raw bits in a
 * Uint16Array: Node 20 has no Float16Array. A few lines here rather than a dependency; the tests
 * check every one of the 65,536 bit patterns and ONNX Runtime's own Cast.
 */

const maxFinite = 65520; // from here on a value rounds to infinity (65504 is the largest half)
const minNormal = 2 ** -14;

/** Rounds to the nearest integer, ties to even, as IEEE 754 rounds by default. */
const roundHalfToEven = (value: number): number => {
  const floor = Math.floor(value);
  const rest = value - floor;
  return rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
};

/** The half nearest to a number (ties to even), as its 16 bits. */
export const floatToHalf = (value: number): number => {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= maxFinite) return sign | 0x7c00;
  // Subnormal: a multiple of 2^-24; rounding up to 0x400 lands exactly on the smallest normal.
  if (magnitude < minNormal) return sign | roundHalfToEven(magnitude * 2 ** 24);
  let exponent = Math.floor(Math.log2(magnitude));
  // log2 may be off by one next to a power of two.
  if (2 ** exponent > magnitude) exponent--;
  else if (2 ** (exponent + 1) <= magnitude) exponent++;
  // Exact in doubles: scaling by a power of two, then subtracting 1 from a value in [1, 2).
  const fraction = roundHalfToEven((magnitude / 2 ** exponent - 1) * 1024);
  // A fraction rounded up to 1024 carries into the exponent, as the addition does.
  return sign | (((exponent + 15) << 10) + fraction);
};

/** The number a half's 16 bits stand for. */
export const halfToFloat = (bits: number): number => {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
};
