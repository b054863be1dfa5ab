import { inflateSync } from 'node:zlib';

/** Pixels as stored: 8 bits a sample, `channels` samples a pixel, row after row. */
export interface PngPixels {
  width: number;
  height: number;
  /** 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array;
}

const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export const isPng = (bytes: Uint8Array) => signature.every((byte, i) => bytes[i] === byte);

/**
 * Width and height from the IHDR chunk, which PNG requires first: read before anything is
 * inflated, so that a tiny file claiming gigapixels is refused before it allocates them.
 */
export const pngSizeOf = (bytes: Buffer): { width: number; height: number } | undefined =>
  bytes.length >= 24 && bytes.toString('latin1', 12, 16) === 'IHDR'
    ? { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) }
    : undefined;

/** Colour type 0 (gray) or 4 (gray and alpha), by the IHDR chunk. */
export const isGrayPng = (bytes: Buffer) =>
  bytes.length >= 26 && bytes.toString('latin1', 12, 16) === 'IHDR' && (bytes[25] === 0 || bytes[25] === 4);

const samplesPerPixel: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Reverses PNG's per-row filters (None, Sub, Up, Average, Paeth) in place: row y's samples move
 * from just after its filter byte to `y × rowBytes`, always at or before where they are read, so
 * nothing is overwritten before it is read. Returns the `height × rowBytes` samples.
 */
const unfilter = (raw: Uint8Array, height: number, rowBytes: number, bytesPerPixel: number): Uint8Array => {
  const out = raw;
  let from = 0;
  for (let y = 0; y < height; y++) {
    const filter = raw[from++];
    const row = y * rowBytes;
    const above = row - rowBytes;
    if (filter === 0 || (filter === 2 && y === 0)) {
      out.copyWithin(row, from, from + rowBytes);
    } else if (filter === 1) {
      for (let i = 0; i < rowBytes; i++) {
        out[row + i] =
          (raw[from + i] as number) + (i >= bytesPerPixel ? (out[row + i - bytesPerPixel] as number) : 0);
      }
    } else if (filter === 2) {
      for (let i = 0; i < rowBytes; i++)
        out[row + i] = (raw[from + i] as number) + (out[above + i] as number);
    } else if (filter === 3) {
      for (let i = 0; i < rowBytes; i++) {
        const left = i >= bytesPerPixel ? (out[row + i - bytesPerPixel] as number) : 0;
        const up = y > 0 ? (out[above + i] as number) : 0;
        out[row + i] = (raw[from + i] as number) + ((left + up) >> 1);
      }
    } else if (filter === 4) {
      for (let i = 0; i < rowBytes; i++) {
        const hasLeft = i >= bytesPerPixel;
        const left = hasLeft ? (out[row + i - bytesPerPixel] as number) : 0;
        const up = y > 0 ? (out[above + i] as number) : 0;
        const upLeft = hasLeft && y > 0 ? (out[above + i - bytesPerPixel] as number) : 0;
        const estimate = left + up - upLeft;
        const toLeft = Math.abs(estimate - left);
        const toUp = Math.abs(estimate - up);
        const toUpLeft = Math.abs(estimate - upLeft);
        const predictor = toLeft <= toUp && toLeft <= toUpLeft ? left : toUp <= toUpLeft ? up : upLeft;
        out[row + i] = (raw[from + i] as number) + predictor;
      }
    } else {
      throw new Error(`unknown PNG row filter ${filter}`);
    }
    from += rowBytes;
  }
  return out.subarray(0, height * rowBytes);
};

/** Palette indices as RGB, or RGBA when a tRNS chunk gives the entries alpha. */
const applyPalette = (
  indices: Uint8Array,
  palette: Uint8Array,
  alpha: Uint8Array | undefined,
): Uint8Array => {
  const channels = alpha ? 4 : 3;
  const out = new Uint8Array(indices.length * channels);
  const entries = palette.length / 3;
  for (let i = 0; i < indices.length; i++) {
    const entry = indices[i] as number;
    if (entry >= entries) throw new Error(`palette index ${entry} out of range`);
    const to = i * channels;
    out[to] = palette[entry * 3] as number;
    out[to + 1] = palette[entry * 3 + 1] as number;
    out[to + 2] = palette[entry * 3 + 2] as number;
    if (alpha) out[to + 3] = entry < alpha.length ? (alpha[entry] as number) : 255;
  }
  return out;
};

/**
 * Decodes the PNGs that scans and text crops are (8 bits a sample, not interlaced, any colour
 * type, palettes included) in one inflate by Node's zlib and one pass over the rows: about four
 * times less CPU than pngjs's general decoder, whose stream machinery dominates for small images,
 * and several times less than a call to sharp (libvips) for a text crop (bench/image-decode.ts).
 * Returns undefined for the rest (16-bit or sub-byte samples, Adam7 interlacing, a tRNS colour
 * key on gray or RGB), which the caller hands to sharp. Chunk CRCs are not checked: zlib's
 * Adler-32 checks the pixel data, and a damaged header fails on the data's length.
 */
export const decodeCommonPng = (bytes: Buffer, maxPixels: number): PngPixels | undefined => {
  if (!isPng(bytes)) throw new Error('not a PNG');
  let header:
    { width: number; height: number; bitDepth: number; colorType: number; interlace: number } | undefined;
  let palette: Uint8Array | undefined;
  let transparency: Uint8Array | undefined;
  const data: Buffer[] = [];
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (body.length < length) throw new Error(`${type} chunk cut short`);
    if (type === 'IHDR') {
      if (length < 13) throw new Error('IHDR chunk too short');
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        bitDepth: body[8] as number,
        colorType: body[9] as number,
        interlace: body[12] as number,
      };
    } else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') transparency = body;
    else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') break;
    at += 12 + length;
  }
  if (!header) throw new Error('no IHDR chunk');
  const { width, height, bitDepth, colorType, interlace } = header;
  const channels = samplesPerPixel[colorType];
  if (!channels) throw new Error(`unknown colour type ${colorType}`);
  if (width === 0 || height === 0) throw new Error('the image has no pixels');
  if (width * height > maxPixels)
    throw new Error(`${width}×${height} is more pixels than allowed (${maxPixels})`);
  const colourKey = transparency && colorType !== 3;
  if (bitDepth !== 8 || interlace !== 0 || colourKey) return undefined;
  if (data.length === 0) throw new Error('no IDAT chunk');

  const rowBytes = width * channels;
  const expected = height * (rowBytes + 1);
  // A stream that inflates to more than the header's size is refused before it fills memory.
  let raw: Buffer;
  try {
    raw = inflateSync(data.length === 1 ? (data[0] as Buffer) : Buffer.concat(data), {
      maxOutputLength: expected,
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Error('the image data is longer than its size says');
    }
    throw error;
  }
  if (raw.length < expected) throw new Error('the image data is shorter than its size says');
  const samples = unfilter(raw, height, rowBytes, channels);
  if (colorType !== 3) return { width, height, channels, data: samples };
  if (!palette) throw new Error('no PLTE chunk for a palette image');
  return {
    width,
    height,
    channels: transparency ? 4 : 3,
    data: applyPalette(samples, palette, transparency),
  };
};
