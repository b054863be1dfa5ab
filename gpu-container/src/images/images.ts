import sharp from 'sharp';
import { imageDataUrlPrefix } from '../../../lib/models/manifest';
import type { ImageInput } from '../../../lib/models/manifest';
import { scalePlanes } from './bilinear';
import type { PlaneSpec } from './bilinear';
import { imageLimitsFromEnv } from './image-limits';
import type { ImageLimits } from './image-limits';
import { decodeCommonPng, isGrayPng, isPng, pngSizeOf } from './png';

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

/** The codes a record fails with when its image cannot be used (see `.out.failed`). */
export const imageErrorCodes = {
  invalid: 'INVALID_IMAGE',
  tooLarge: 'OBJECT_TOO_LARGE',
} as const;

export type ImageErrorCode = (typeof imageErrorCodes)[keyof typeof imageErrorCodes];

/** A record's image could not be read; the record fails, not its batch. */
export class ImageDecodeError extends Error {
  static readonly code = imageErrorCodes.invalid;
  constructor(
    message: string,
    readonly code: ImageErrorCode = imageErrorCodes.invalid,
  ) {
    super(message);
  }
}

const dataUrlPrefix = new RegExp(`^${imageDataUrlPrefix}`, 'i');

/** A base64 field value (optionally a data URL) as the bytes it encodes. */
export const imageBytesOf = (value: string | Uint8Array): Buffer => {
  // An object read whole (objects as records) comes as its bytes; a field of a JSON record as base64.
  if (typeof value !== 'string') return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return Buffer.from(dataUrlPrefix.test(value) ? value.slice(value.indexOf(',') + 1) : value, 'base64');
};

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'tiff';

/** The format from the file's first bytes (its signature), whatever its name or content type says. */
export const imageFormatOf = (bytes: Buffer): ImageFormat | undefined => {
  if (isPng(bytes)) return 'png';
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (
    bytes.length >= 12 &&
    bytes.toString('latin1', 0, 4) === 'RIFF' &&
    bytes.toString('latin1', 8, 12) === 'WEBP'
  )
    return 'webp';
  const start = bytes.toString('latin1', 0, 4);
  // Classic TIFF (42) and BigTIFF (43), either byte order.
  if (['II*\0', 'MM\0*', 'II+\0', 'MM\0+'].includes(start)) return 'tiff';
  return undefined;
};

/**
 * Width and height from a JPEG's frame header (SOF0–SOF15 but DHT, JPG and DAC), walking the
 * marker segments before it: a few bytes read, so that the size is checked without a call to
 * sharp. Undefined when no frame header comes before the data ends; sharp then reads the header.
 */
export const jpegSizeOf = (bytes: Buffer): { width: number; height: number } | undefined => {
  for (let at = 2; at + 9 <= bytes.length;) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1] as number;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      at += 2; // markers without a segment
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
      return { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) };
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  return undefined;
};

// libvips caches recent operations for reuse: a worker never decodes the same bytes twice, so the
// cache would only hold memory. Its threads per image stay 1: the worker decodes many images side
// by side (one per preprocessing thread or lane), which keeps each one's buffers few and small.
sharp.cache(false);
sharp.concurrency(1);

const megapixels = (pixels: number) =>
  pixels >= 1_000_000 ? `${Math.round(pixels / 100_000) / 10} megapixels` : `${pixels} pixels`;

const checkSize = ({ width, height }: { width: number; height: number }, limits: ImageLimits) => {
  if (width === 0 || height === 0) throw new ImageDecodeError('The image has no pixels (its size is 0).');
  if (width * height > limits.maxPixels) {
    throw new ImageDecodeError(
      `The image is ${width}×${height} (${megapixels(width * height)}), more than the ` +
        `${megapixels(limits.maxPixels)} a worker decodes (LONGTAIL_MAX_IMAGE_PIXELS).`,
      imageErrorCodes.tooLarge,
    );
  }
};

/** The size a model reads images at: `height` rows, at most `width` columns. */
export interface ImageTarget {
  height: number;
  width: number;
}

export const imageTargetOf = (input: ImageInput): ImageTarget => ({
  height: input.shape[2],
  width: input.shape[3],
});

/**
 * Decodes with sharp (libvips): JPEG, WebP, TIFF, and the PNGs the worker's own decoder leaves.
 * An image up to `decodeWholePixels` is decoded whole, and scaled by the worker's bilinear kernel
 * like a PNG is. A larger one is resized to the model's size as it is read: JPEG's shrink-on-load
 * decodes it at 1/2 to 1/8 scale, and sequential reading streams the rows of the others through
 * the resize, so a 60-megapixel scan never exists whole in memory. Exported for the bench, which
 * measures it against the worker's own PNG decoder (decodeImage picks between them).
 */
export const decodeWithSharp = async (
  bytes: Buffer,
  size: { width: number; height: number },
  target: ImageTarget,
  limits: ImageLimits,
): Promise<DecodedImage> => {
  // failOn 'error': a truncated or damaged image fails rather than decoding gray past the damage,
  // while the harmless warnings real cameras' files raise (extra bytes between markers) pass.
  let image = sharp(bytes, { limitInputPixels: limits.maxPixels, sequentialRead: true, failOn: 'error' });
  if (size.width * size.height > limits.decodeWholePixels) {
    image = image.resize(scaledWidthOf(size, target.height, target.width), target.height, {
      fit: 'fill',
      kernel: 'linear',
    });
  }
  const { data, info } = await image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  // sharp gives 1 (gray), 2 (gray, alpha), 3 (sRGB; CMYK is converted) or 4 (sRGB, alpha) samples.
  // A gray PNG of 16 or under 8 bits, or with a tRNS colour key, comes as sRGB: still gray, so it is
  // scaled once rather than thrice.
  return {
    width: info.width,
    height: info.height,
    channels: info.channels,
    pixels: data,
    gray: info.channels <= 2 || (isPng(bytes) && isGrayPng(bytes)),
    opaque: info.channels % 2 === 1,
  };
};

/** sharp's header read, for the formats whose size is not read here (WebP, TIFF). */
const sizeFromSharp = async (bytes: Buffer) => {
  const { width, height } = await sharp(bytes, { limitInputPixels: false }).metadata();
  return { width, height };
};

const decode = async (bytes: Buffer, target: ImageTarget, limits: ImageLimits): Promise<DecodedImage> => {
  if (bytes.length === 0) throw new ImageDecodeError('The image is empty (0 bytes).');
  const format = imageFormatOf(bytes);
  if (!format) {
    throw new ImageDecodeError(
      'The file is not an image the worker reads: its first bytes are not those of a PNG, JPEG, WebP or TIFF.',
    );
  }
  const size =
    (format === 'png' ? pngSizeOf(bytes) : format === 'jpeg' ? jpegSizeOf(bytes) : undefined) ??
    (await sizeFromSharp(bytes));
  checkSize(size, limits);
  if (format === 'png' && size.width * size.height <= limits.decodeWholePixels) {
    // The worker's own decoder: several times faster than sharp on text crops (bench/image-decode.ts).
    const common = decodeCommonPng(bytes, limits.decodeWholePixels);
    if (common) {
      const { width, height, channels, data } = common;
      return { width, height, channels, pixels: data, gray: channels <= 2, opaque: channels % 2 === 1 };
    }
  }
  return decodeWithSharp(bytes, size, target, limits);
};

/**
 * Decodes a PNG, JPEG, WebP or TIFF (the first page) for a model that reads `target`-sized
 * images: whole when it is small, else resized as it is read (see decodeWithSharp). Throws
 * ImageDecodeError: OBJECT_TOO_LARGE beyond `limits.maxPixels` (checked on the header, before any
 * pixel is allocated), INVALID_IMAGE for anything else that cannot be read.
 */
export const decodeImage = async (
  bytes: Buffer,
  target: ImageTarget,
  limits: ImageLimits = imageLimitsFromEnv(),
): Promise<DecodedImage> => {
  try {
    return await decode(bytes, target, limits);
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
    // libvips reports one line per problem it met: the first says what went wrong.
    const [first] = (error as Error).message.split('\n');
    throw new ImageDecodeError(`The image cannot be decoded: ${first}`);
  }
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
