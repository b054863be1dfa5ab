import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { ImageInput } from './manifest';

/** An image decoded to 8-bit RGBA pixels, row by row. */
export interface DecodedImage {
  width: number;
  height: number;
  rgba: Uint8Array;
  /** R = G = B everywhere (a grayscale PNG): one channel is sampled and written three times. */
  gray: boolean;
  /** Neither an alpha channel nor a tRNS chunk (pngjs reports either as alpha): nothing to composite. */
  opaque: boolean;
}

/** A record's image could not be read; the record fails, not its batch. */
export class ImageDecodeError extends Error {
  readonly code = 'INVALID_IMAGE';
}

const dataUrlPrefix = /^data:image\/[a-z+.-]+;base64,/i;

/** A base64 field value (optionally a data URL) as the bytes it encodes. */
export const imageBytesOf = (value: string): Buffer =>
  Buffer.from(dataUrlPrefix.test(value) ? value.slice(value.indexOf(',') + 1) : value, 'base64');

const isPng = (bytes: Uint8Array) =>
  bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
const isJpeg = (bytes: Uint8Array) =>
  bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;

/** Keeps a crafted header from making the decoder allocate gigabytes. */
const maxPixels = 40_000_000;

/** Decodes a PNG (any bit depth, palette, alpha or interlace) or a baseline/progressive JPEG. */
export const decodeImage = (bytes: Buffer): DecodedImage => {
  try {
    if (isPng(bytes)) {
      const png = PNG.sync.read(bytes, { skipRescale: false });
      const { color, alpha } = png as PNG & { color: boolean; alpha: boolean };
      return { width: png.width, height: png.height, rgba: png.data, gray: !color, opaque: !alpha };
    }
    if (isJpeg(bytes)) {
      const image = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: maxPixels / 1_000_000,
        maxMemoryUsageInMB: 512,
      });
      return { width: image.width, height: image.height, rgba: image.data, gray: false, opaque: true };
    }
  } catch (error) {
    throw new ImageDecodeError(`The image cannot be decoded: ${(error as Error).message}`);
  }
  throw new ImageDecodeError('The image is neither a PNG nor a JPEG.');
};

/** The width an image is scaled to: the tensor's height, its aspect ratio, no wider than the tensor. */
export const scaledWidthOf = (image: { width: number; height: number }, height: number, maxWidth: number) =>
  Math.max(1, Math.min(maxWidth, Math.ceil((height * image.width) / image.height)));

/** Source positions and weights of bilinear sampling with pixel centres aligned (as OpenCV's INTER_LINEAR). */
const samplingOf = (sourceSize: number, targetSize: number) => {
  const scale = sourceSize / targetSize;
  const low = new Int32Array(targetSize);
  const high = new Int32Array(targetSize);
  const weight = new Float32Array(targetSize);
  for (let i = 0; i < targetSize; i++) {
    const at = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), sourceSize - 1);
    const floor = Math.floor(at);
    low[i] = floor;
    high[i] = Math.min(floor + 1, sourceSize - 1);
    weight[i] = at - floor;
  }
  return { low, high, weight };
};

/**
 * Writes one image into an NCHW float tensor at `offset` (the start of its `3 × H × W` block):
 * bilinear scaling, normalization per channel, and zeros (after normalization, as PaddleOCR
 * pads) to the right of the scaled image. Alpha is composited over white, so that a transparent
 * background reads as paper. This loop is most of an image model's preprocessing time, hence
 * the precomputed sampling tables and the unrolled channels.
 */
export const writeImageTensor = (
  image: DecodedImage,
  input: ImageInput,
  target: Float32Array,
  offset: number,
): void => {
  const [, , height, width] = input.shape;
  const { channels, mean, std } = input.image;
  const scaledWidth = scaledWidthOf(image, height, width);
  const plane = height * width;
  // Source byte offsets of the tensor's channels 0, 1, 2 within an RGBA pixel.
  const [c0, c1, c2] = channels === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  // value = pixel * gain + bias: the normalization folded into one multiply-add per channel.
  const gain0 = 1 / (255 * std[0]);
  const gain1 = 1 / (255 * std[1]);
  const gain2 = 1 / (255 * std[2]);
  const bias0 = -mean[0] / std[0];
  const bias1 = -mean[1] / std[1];
  const bias2 = -mean[2] / std[2];
  // A plain Uint8Array view, not the decoder's Buffer subclass: keeps the loop's element loads monomorphic.
  const rgba = new Uint8Array(image.rgba.buffer, image.rgba.byteOffset, image.rgba.byteLength);
  const { opaque } = image;
  // Gray: every channel reads the red byte (and one interpolation does for three).
  const { gray } = image;
  const s0 = gray ? 0 : c0;
  const s1 = gray ? 0 : c1;
  const s2 = gray ? 0 : c2;
  const rowBytes = image.width * 4;
  const xs = samplingOf(image.width, scaledWidth);
  const ys = samplingOf(image.height, height);
  target.fill(0, offset, offset + 3 * plane);
  for (let y = 0; y < height; y++) {
    const top = (ys.low[y] as number) * rowBytes;
    const bottom = (ys.high[y] as number) * rowBytes;
    const fy = ys.weight[y] as number;
    const row = offset + y * width;
    for (let x = 0; x < scaledWidth; x++) {
      const left = (xs.low[x] as number) * 4;
      const right = (xs.high[x] as number) * 4;
      const fx = xs.weight[x] as number;
      const a = top + left;
      const b = top + right;
      const c = bottom + left;
      const d = bottom + right;
      const wa = (1 - fx) * (1 - fy);
      const wb = fx * (1 - fy);
      const wc = (1 - fx) * fy;
      const wd = fx * fy;
      let v0 =
        (rgba[a + s0] as number) * wa +
        (rgba[b + s0] as number) * wb +
        (rgba[c + s0] as number) * wc +
        (rgba[d + s0] as number) * wd;
      let v1 = v0;
      let v2 = v0;
      if (!gray) {
        v1 =
          (rgba[a + s1] as number) * wa +
          (rgba[b + s1] as number) * wb +
          (rgba[c + s1] as number) * wc +
          (rgba[d + s1] as number) * wd;
        v2 =
          (rgba[a + s2] as number) * wa +
          (rgba[b + s2] as number) * wb +
          (rgba[c + s2] as number) * wc +
          (rgba[d + s2] as number) * wd;
      }
      if (!opaque) {
        const alpha =
          ((rgba[a + 3] as number) * wa +
            (rgba[b + 3] as number) * wb +
            (rgba[c + 3] as number) * wc +
            (rgba[d + 3] as number) * wd) /
          255;
        const paper = 255 * (1 - alpha);
        v0 = v0 * alpha + paper;
        v1 = v1 * alpha + paper;
        v2 = v2 * alpha + paper;
      }
      const at = row + x;
      target[at] = v0 * gain0 + bias0;
      target[at + plane] = v1 * gain1 + bias1;
      target[at + 2 * plane] = v2 * gain2 + bias2;
    }
  }
};
