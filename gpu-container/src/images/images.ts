import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { imageDataUrlPrefix } from '../../../lib/models/manifest';
import type { ImageInput } from '../../../lib/models/manifest';
import { scalePlanes } from './bilinear';
import type { PlaneSpec } from './bilinear';
import { decodeCommonPng, isPng } from './png';

/** An image decoded to 8-bit samples, `channels` a pixel, row by row. */
export interface DecodedImage {
  width: number;
  height: number;
  /** Samples a pixel: colour (one sample when gray, else R, G, B), then alpha when there is one. */
  channels: number;
  pixels: Uint8Array;
  /** R = G = B everywhere: the first sample of a pixel is its colour. */
  gray: boolean;
  /** No alpha sample and no tRNS chunk: nothing to composite. */
  opaque: boolean;
}

/** A record's image could not be read; the record fails, not its batch. */
export class ImageDecodeError extends Error {
  static readonly code = 'INVALID_IMAGE';
  readonly code = ImageDecodeError.code;
}

const dataUrlPrefix = new RegExp(`^${imageDataUrlPrefix}`, 'i');

/** A base64 field value (optionally a data URL) as the bytes it encodes. */
export const imageBytesOf = (value: string): Buffer =>
  Buffer.from(dataUrlPrefix.test(value) ? value.slice(value.indexOf(',') + 1) : value, 'base64');

const isJpeg = (bytes: Uint8Array) =>
  bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;

/** Keeps a crafted header from making the decoder allocate gigabytes. */
const maxPixels = 40_000_000;

const decodePng = (bytes: Buffer): DecodedImage => {
  const common = decodeCommonPng(bytes, maxPixels);
  if (common) {
    const { width, height, channels, data } = common;
    return { width, height, channels, pixels: data, gray: channels <= 2, opaque: channels % 2 === 1 };
  }
  // pngjs reads every PNG there is; it gives RGBA, with `color` and `alpha` (a tRNS chunk counts) saying what was there.
  const png = PNG.sync.read(bytes, { skipRescale: false });
  const { color, alpha } = png as PNG & { color: boolean; alpha: boolean };
  return {
    width: png.width,
    height: png.height,
    channels: 4,
    pixels: png.data,
    gray: !color,
    opaque: !alpha,
  };
};

/** Decodes a PNG (any bit depth, palette, alpha or interlace) or a baseline/progressive JPEG. */
export const decodeImage = (bytes: Buffer): DecodedImage => {
  try {
    if (isPng(bytes)) return decodePng(bytes);
    if (isJpeg(bytes)) {
      const image = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: false,
        maxResolutionInMP: maxPixels / 1_000_000,
        maxMemoryUsageInMB: 512,
      });
      return {
        width: image.width,
        height: image.height,
        channels: 3,
        pixels: image.data,
        gray: false,
        opaque: true,
      };
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
 * bilinear scaling, normalization per channel, and zeros (after normalization, as PaddleOCR
 * pads) to the right of the scaled image. Alpha is composited over white, so that a transparent
 * background reads as paper. A gray image is scaled once for the channels that normalize alike
 * (all three, for PaddleOCR's models).
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
  // The tensor's channels in the order the model reads them, as samples within a pixel.
  const samples = image.gray ? [0, 0, 0] : channels === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const specs: PlaneSpec[] = samples.map((sample, c) => ({
    sample,
    gain: 1 / (255 * (std[c] as number)),
    bias: -(mean[c] as number) / (std[c] as number),
  }));
  if (image.opaque) {
    // A gray image whose channels normalize alike (PaddleOCR's) is scaled once and copied.
    const [first] = specs as [PlaneSpec];
    const once = image.gray && specs.every(({ gain, bias }) => gain === first.gain && bias === first.bias);
    const scaled = scalePlanes(image, height, scaledWidth, width, once ? [first] : specs);
    for (let c = 0; c < 3; c++) {
      const from = once ? 0 : c;
      target.set(scaled.subarray(from * plane, (from + 1) * plane), offset + c * plane);
    }
    return;
  }
  // Scaled colour (0–255) and opacity (0–1), composited and normalized here: a rare case.
  const raw = scalePlanes(image, height, scaledWidth, width, [
    ...samples.map((sample) => ({ sample, gain: 1, bias: 0 })),
    { sample: image.channels - 1, gain: 1 / 255, bias: 0 },
  ]);
  for (const [c, { gain, bias }] of specs.entries()) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const at = y * width + x;
        const opacity = raw[3 * plane + at] as number;
        const onPaper = (raw[c * plane + at] as number) * opacity + 255 * (1 - opacity);
        target[offset + c * plane + at] = x < scaledWidth ? onPaper * gain + bias : 0;
      }
    }
  }
};
