import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import sharp from 'sharp';
import { encodeImageBatch } from '../../gpu-container/src/images/image-batch';
import { imageLimitsFromEnv } from '../../gpu-container/src/images/image-limits';
import type { ImageLimits } from '../../gpu-container/src/images/image-limits';
import {
  decodeImage,
  imageFormatOf,
  jpegSizeOf,
  writeImageTensor,
} from '../../gpu-container/src/images/images';
import type { DecodedImage } from '../../gpu-container/src/images/images';
import type { ImageInput } from '../../lib/models/manifest';
import { handMadePng } from '../support/png-files';

/** text-orientation's input: [N, 3, 48, 192], BGR, (x/255 - 0.5)/0.5. */
const input: ImageInput = {
  name: 'x',
  dtype: 'float32',
  shape: ['batch', 3, 48, 192],
  image: { field: 'image', channels: 'bgr', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
};
const target = { height: 48, width: 192 };
const limits: ImageLimits = { maxPixels: 250_000_000, decodeWholePixels: 4_000_000 };
const block = 3 * 48 * 192;

const crop = readFileSync(join(__dirname, '../fixtures/images/order-upright.png'));

const tensorOf = (image: DecodedImage) => {
  const tensor = new Float32Array(block);
  writeImageTensor(image, input, tensor, 0);
  return tensor;
};

const meanAbsoluteDifference = (a: Float32Array, b: Float32Array) =>
  a.reduce((sum, value, i) => sum + Math.abs(value - (b[i] as number)), 0) / a.length;

/** What a decode ends in: the code it fails with, or 'decoded'. */
const outcomeOf = async (bytes: Buffer, withLimits = limits) => {
  try {
    await decodeImage(bytes, target, withLimits);
    return 'decoded';
  } catch (error) {
    return (error as { code?: string }).code ?? `crashed: ${String(error)}`;
  }
};

describe('image formats', () => {
  it('tells PNG, JPEG, WebP and TIFF by their first bytes, and nothing else', async () => {
    const base = sharp(crop);
    expect(imageFormatOf(crop)).toBe('png');
    expect(imageFormatOf(await base.clone().jpeg().toBuffer())).toBe('jpeg');
    expect(imageFormatOf(await base.clone().webp().toBuffer())).toBe('webp');
    expect(imageFormatOf(await base.clone().tiff().toBuffer())).toBe('tiff');
    expect(imageFormatOf(await base.clone().tiff({ bigtiff: true }).toBuffer())).toBe('tiff');
    expect(imageFormatOf(await base.clone().gif().toBuffer())).toBeUndefined();
    expect(imageFormatOf(Buffer.from('RIFF\0\0\0\0WAVEfmt '))).toBeUndefined();
  });

  it('reads lossless WebP and TIFF to the very tensor the PNG gives', async () => {
    const fromPng = tensorOf(await decodeImage(crop, target, limits));
    for (const bytes of [
      await sharp(crop).webp({ lossless: true }).toBuffer(),
      await sharp(crop).tiff({ compression: 'lzw' }).toBuffer(),
    ]) {
      expect([...tensorOf(await decodeImage(bytes, target, limits))]).toEqual([...fromPng]);
    }
  });

  it('reads a JPEG as jpeg-js (the decoder it replaces) did, but for rounding', async () => {
    const bytes = await sharp(crop).jpeg({ quality: 90 }).toBuffer();
    const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
    const before = tensorOf({ ...decoded, channels: 3, pixels: decoded.data, gray: false, opaque: true });
    const after = tensorOf(await decodeImage(bytes, target, limits));

    // Both are the JPEG standard's IDCT; libjpeg-turbo's fast integer one differs by a level here and there.
    expect(meanAbsoluteDifference(before, after)).toBeLessThan(2 / 255);
  });

  it('reads a CMYK JPEG as sRGB', async () => {
    const red = await sharp({ create: { width: 64, height: 32, channels: 3, background: '#ff0000' } })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    const image = await decodeImage(red, target, limits);

    expect(image).toMatchObject({ width: 64, height: 32, channels: 3, gray: false, opaque: true });
    expect(image.pixels[0]).toBeGreaterThan(200);
    expect(image.pixels[1]).toBeLessThan(60);
  });

  it('reads the size of a JPEG from its frame header, past the segments before it', async () => {
    const bytes = await sharp(crop)
      .withExif({ IFD0: { Copyright: 'Longtail' } })
      .jpeg()
      .toBuffer();
    const { width, height } = await sharp(crop).metadata();

    expect(jpegSizeOf(bytes)).toEqual({ width, height });
    expect(jpegSizeOf(bytes.subarray(0, 6))).toBeUndefined();
  });
});

describe('images beyond the decode buffer', () => {
  // A crop at 25 times its size: 6 megapixels, more than decodeWholePixels.
  const large = async (format: 'png' | 'jpeg') => {
    const { width = 0, height = 0 } = await sharp(crop).metadata();
    const scaled = sharp(crop).resize(width * 25, height * 25, { kernel: 'nearest' });
    return format === 'png' ? scaled.png().toBuffer() : scaled.jpeg({ quality: 95 }).toBuffer();
  };

  it.each(['png', 'jpeg'] as const)(
    'resizes a large %s to the model size as it reads it, as close to the image as a whole decode',
    async (format) => {
      const bytes = await large(format);
      const resized = await decodeImage(bytes, target, limits);
      const whole = await decodeImage(bytes, target, { ...limits, decodeWholePixels: 10_000_000 });

      expect(resized.height).toBe(48);
      expect(resized.width * resized.height).toBeLessThanOrEqual(48 * 192);
      expect(whole.height).toBeGreaterThan(1000);
      // Scaled 25 times and back, the crop is itself again: the resize on load averages each 25 × 25
      // block (close to the crop), where bilinear scaling of the whole image samples two pixels of it.
      const original = tensorOf(await decodeImage(crop, target, limits));
      const resizedOff = meanAbsoluteDifference(tensorOf(resized), original);
      expect(resizedOff).toBeLessThan(0.02);
      expect(resizedOff).toBeLessThan(meanAbsoluteDifference(tensorOf(whole), original));
    },
  );
});

describe('bad images', () => {
  const rgbJpeg = async () =>
    sharp({
      create: {
        width: 400,
        height: 300,
        channels: 3,
        background: '#000000',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .jpeg()
      .toBuffer();

  it('fails each kind of bad image with INVALID_IMAGE, and one too large with OBJECT_TOO_LARGE', async () => {
    const jpegBytes = await rgbJpeg();
    // 100,000 × 100,000 gray pixels claimed by a header, 10 gigabytes if believed: 100 bytes on disk.
    const pngBomb = handMadePng(
      { width: 100_000, height: 100_000, bitDepth: 8, colorType: 0 },
      Buffer.alloc(16),
    );

    const outcomes = {
      empty: await outcomeOf(Buffer.alloc(0)),
      'truncated JPEG': await outcomeOf(jpegBytes.subarray(0, Math.floor(jpegBytes.length / 2))),
      'JPEG without its end': await outcomeOf(jpegBytes.subarray(0, jpegBytes.length - 2)),
      'PNG bomb': await outcomeOf(pngBomb),
      'text named .png': await outcomeOf(Buffer.from('name,score\nada,1\n')),
      GIF: await outcomeOf(await sharp(crop).gif().toBuffer()),
      'WebP header, then junk': await outcomeOf(Buffer.from('RIFF\x10\0\0\0WEBPVP8 junkjunkjunk', 'latin1')),
      'TIFF header, then junk': await outcomeOf(Buffer.from('II*\0\x08\0\0\0junkjunk', 'latin1')),
      'too many pixels for the setting': await outcomeOf(crop, {
        maxPixels: 1_000,
        decodeWholePixels: 1_000,
      }),
    };

    expect(outcomes).toEqual({
      empty: 'INVALID_IMAGE',
      'truncated JPEG': 'INVALID_IMAGE',
      'JPEG without its end': 'INVALID_IMAGE',
      'PNG bomb': 'OBJECT_TOO_LARGE',
      'text named .png': 'INVALID_IMAGE',
      GIF: 'INVALID_IMAGE',
      'WebP header, then junk': 'INVALID_IMAGE',
      'TIFF header, then junk': 'INVALID_IMAGE',
      'too many pixels for the setting': 'OBJECT_TOO_LARGE',
    });
  });

  it('says why, in words a user can act on', async () => {
    await expect(decodeImage(Buffer.alloc(0), target, limits)).rejects.toThrow(
      'The image is empty (0 bytes).',
    );
    await expect(
      decodeImage(
        handMadePng({ width: 100_000, height: 100_000, bitDepth: 8, colorType: 0 }, Buffer.alloc(16)),
        target,
        limits,
      ),
    ).rejects.toThrow(
      /100000×100000 \(10000 megapixels\), more than the 250 megapixels .*LONGTAIL_MAX_IMAGE_PIXELS/,
    );
    await expect(decodeImage(Buffer.from('GIF89a....'), target, limits)).rejects.toThrow(
      /PNG, JPEG, WebP or TIFF/,
    );
  });

  it('fails a bad image alone: the rest of its batch is encoded', async () => {
    const good = crop.toString('base64');
    const result = await encodeImageBatch({
      input,
      images: [good, '', good, (await rgbJpeg()).subarray(0, 500).toString('base64'), good],
      limits,
    });

    expect(result.failures.map((failure) => failure?.code ?? null)).toEqual([
      null,
      'INVALID_IMAGE',
      null,
      'INVALID_IMAGE',
      null,
    ]);
    const slot = (i: number) => result.data.subarray(i * block, (i + 1) * block);
    expect(slot(1).every((value) => value === 0)).toBe(true);
    expect([...slot(2)]).toEqual([...slot(0)]);
    expect([...slot(4)]).toEqual([...slot(0)]);
  });
});

describe('imageLimitsFromEnv', () => {
  it('reads LONGTAIL_MAX_IMAGE_PIXELS, 250 megapixels unset, and refuses a value that is no count', () => {
    expect(imageLimitsFromEnv({})).toEqual({ maxPixels: 250_000_000, decodeWholePixels: 4_000_000 });
    expect(imageLimitsFromEnv({ LONGTAIL_MAX_IMAGE_PIXELS: '1000000' })).toEqual({
      maxPixels: 1_000_000,
      decodeWholePixels: 1_000_000,
    });
    expect(() => imageLimitsFromEnv({ LONGTAIL_MAX_IMAGE_PIXELS: 'lots' })).toThrow(
      'LONGTAIL_MAX_IMAGE_PIXELS is not valid',
    );
  });
});
