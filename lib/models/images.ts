import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { ImageInput } from './manifest';

/** An image decoded to 8-bit RGBA pixels, row by row. */
export interface DecodedImage {
  width: number;
  height: number;
  rgba: Uint8Array;
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
      return { width: png.width, height: png.height, rgba: png.data };
    }
    if (isJpeg(bytes)) {
      const image = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: maxPixels / 1_000_000,
        maxMemoryUsageInMB: 512,
      });
      return { width: image.width, height: image.height, rgba: image.data };
    }
  } catch (error) {
    throw new ImageDecodeError(`The image cannot be decoded: ${(error as Error).message}`);
  }
  throw new ImageDecodeError('The image is neither a PNG nor a JPEG.');
};

/** The width an image is scaled to: the tensor's height, its aspect ratio, no wider than the tensor. */
export const scaledWidthOf = (image: { width: number; height: number }, height: number, maxWidth: number) =>
  Math.max(1, Math.min(maxWidth, Math.ceil((height * image.width) / image.height)));

/**
 * Writes one image into an NCHW float tensor at `offset` (the start of its `3 × H × W` block):
 * bilinear scaling with pixel centres aligned (as OpenCV's INTER_LINEAR), normalization per
 * channel, and zeros to the right of the scaled image. Alpha is composited over white, so a
 * transparent background reads as paper.
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
  const order = channels === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  // value = pixel * gain[c] + bias[c], the normalization folded into one multiply-add.
  const gain = order.map((_, c) => 1 / (255 * (std[c] as number)));
  const bias = order.map((_, c) => -(mean[c] as number) / (std[c] as number));
  const xScale = image.width / scaledWidth;
  const yScale = image.height / height;
  const { rgba } = image;
  const rowBytes = image.width * 4;
  target.fill(0, offset, offset + 3 * plane);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(Math.max((y + 0.5) * yScale - 0.5, 0), image.height - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, image.height - 1);
    const fy = sy - y0;
    for (let x = 0; x < scaledWidth; x++) {
      const sx = Math.min(Math.max((x + 0.5) * xScale - 0.5, 0), image.width - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, image.width - 1);
      const fx = sx - x0;
      const a = y0 * rowBytes + x0 * 4;
      const b = y0 * rowBytes + x1 * 4;
      const c = y1 * rowBytes + x0 * 4;
      const d = y1 * rowBytes + x1 * 4;
      const wa = (1 - fx) * (1 - fy);
      const wb = fx * (1 - fy);
      const wc = (1 - fx) * fy;
      const wd = fx * fy;
      const alpha =
        ((rgba[a + 3] as number) * wa +
          (rgba[b + 3] as number) * wb +
          (rgba[c + 3] as number) * wc +
          (rgba[d + 3] as number) * wd) /
        255;
      const at = offset + y * width + x;
      for (let channel = 0; channel < 3; channel++) {
        const source = order[channel] as number;
        const value =
          (rgba[a + source] as number) * wa +
          (rgba[b + source] as number) * wb +
          (rgba[c + source] as number) * wc +
          (rgba[d + source] as number) * wd;
        const composited = value * alpha + 255 * (1 - alpha);
        target[at + channel * plane] = composited * (gain[channel] as number) + (bias[channel] as number);
      }
    }
  }
};
