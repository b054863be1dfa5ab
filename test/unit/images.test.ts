import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { encodeImageBatch } from '../../gpu-container/src/images/image-batch';
import {
  ImageDecodeError,
  decodeImage,
  imageBytesOf,
  scaledWidthOf,
  writeImageTensor,
} from '../../gpu-container/src/images/images';
import type { ImageInput } from '../../lib/models/manifest';
import { chunk, handMadePng } from '../support/png-files';

const input: ImageInput = {
  name: 'x',
  dtype: 'float32',
  shape: ['batch', 3, 4, 8],
  image: { field: 'image', channels: 'bgr', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
};
const plane = 4 * 8;

/** A PNG of `width × height` whose every pixel is `rgba`, in the given PNG colour type. */
const solidPng = (
  width: number,
  height: number,
  rgba: [number, number, number, number],
  colorType: 0 | 2 | 6 = 6,
) => {
  const png = new PNG({ width, height, colorType, inputHasAlpha: true });
  for (let i = 0; i < width * height; i++) png.data.set(rgba, i * 4);
  return PNG.sync.write(png, { colorType });
};

const target = { height: 4, width: 8 };
const decode = (bytes: Buffer) => decodeImage(bytes, target);

const tensorOf = async (bytes: Buffer) => {
  const tensor = new Float32Array(3 * plane);
  writeImageTensor(await decode(bytes), input, tensor, 0);
  return tensor;
};

/** The tensor's value at channel c, row y, column x. */
const at = (tensor: Float32Array, c: number, y: number, x: number) => tensor[c * plane + y * 8 + x];

describe('decodeImage', () => {
  it('reads grayscale, RGB and RGBA PNGs and says which are gray and which opaque', async () => {
    const gray = await decode(solidPng(3, 2, [90, 90, 90, 255], 0));
    const rgb = await decode(solidPng(3, 2, [10, 20, 30, 255], 2));
    const rgba = await decode(solidPng(3, 2, [10, 20, 30, 128], 6));

    expect(gray).toMatchObject({ width: 3, height: 2, channels: 1, gray: true, opaque: true });
    expect([...gray.pixels.subarray(0, 2)]).toEqual([90, 90]);
    expect(rgb).toMatchObject({ channels: 3, gray: false, opaque: true });
    expect([...rgb.pixels.subarray(0, 4)]).toEqual([10, 20, 30, 10]);
    expect(rgba).toMatchObject({ channels: 4, gray: false, opaque: false });
    expect([...rgba.pixels.subarray(0, 4)]).toEqual([10, 20, 30, 128]);
  });

  it('reads a JPEG', async () => {
    const raw = { width: 16, height: 8, data: Buffer.alloc(16 * 8 * 4, 200) };
    const image = await decode(jpeg.encode(raw, 95).data);

    expect(image).toMatchObject({ width: 16, height: 8, channels: 3, opaque: true });
    expect(Math.abs((image.pixels[0] as number) - 200)).toBeLessThanOrEqual(2);
  });

  it('rejects bytes that are no image it reads, and a PNG cut short, as INVALID_IMAGE', async () => {
    const png = solidPng(8, 8, [0, 0, 0, 255]);
    await expect(decode(Buffer.from('hello, not an image'))).rejects.toThrow(ImageDecodeError);
    await expect(decode(Buffer.from('hello, not an image'))).rejects.toThrow(
      'not those of a PNG, JPEG, WebP or TIFF',
    );
    await expect(decode(png.subarray(0, png.length - 20))).rejects.toMatchObject({ code: 'INVALID_IMAGE' });
    expect(new ImageDecodeError('x').code).toBe('INVALID_IMAGE');
  });

  it('takes plain base64 and base64 data URLs', () => {
    const png = solidPng(2, 2, [1, 2, 3, 255]);
    expect(imageBytesOf(png.toString('base64'))).toEqual(png);
    expect(imageBytesOf(`data:image/png;base64,${png.toString('base64')}`)).toEqual(png);
  });
});

describe('writeImageTensor', () => {
  it('scales to the tensor height keeping the aspect ratio, never wider than the tensor', () => {
    expect(scaledWidthOf({ width: 10, height: 10 }, 4, 8)).toBe(4);
    expect(scaledWidthOf({ width: 3, height: 10 }, 4, 8)).toBe(2); // ceil(1.2)
    expect(scaledWidthOf({ width: 100, height: 10 }, 4, 8)).toBe(8);
  });

  it('normalizes (pixel/255 - mean)/std and pads the right with zeros', async () => {
    // 4×4 white scales to 4×4 in a 4×8 tensor: white is (1 - 0.5)/0.5 = 1, the padding 0.
    const tensor = await tensorOf(solidPng(4, 4, [255, 255, 255, 255]));

    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 4; x++) expect(at(tensor, c, y, x)).toBeCloseTo(1, 6);
        for (let x = 4; x < 8; x++) expect(at(tensor, c, y, x)).toBe(0);
      }
    }
  });

  it('writes channels in BGR order when the model reads BGR', async () => {
    const tensor = await tensorOf(solidPng(8, 4, [255, 0, 0, 255])); // pure red

    expect(at(tensor, 0, 0, 0)).toBeCloseTo(-1, 6); // blue
    expect(at(tensor, 1, 0, 0)).toBeCloseTo(-1, 6); // green
    expect(at(tensor, 2, 0, 0)).toBeCloseTo(1, 6); // red
  });

  it('composites transparency over white paper', async () => {
    const tensor = await tensorOf(solidPng(8, 4, [0, 0, 0, 0])); // transparent black

    expect(at(tensor, 0, 2, 3)).toBeCloseTo(1, 6);
  });

  it('composites a PNG whose transparency is a tRNS chunk (no alpha channel) over white paper', async () => {
    // 8×4 grayscale, every pixel 0, and tRNS saying gray 0 is transparent.
    const rows = Buffer.alloc(4 * (1 + 8)); // filter byte 0, then 8 black pixels, per row
    const png = handMadePng({ width: 8, height: 4, bitDepth: 8, colorType: 0 }, rows, [
      chunk('tRNS', Buffer.from([0, 0])),
    ]);

    const tensor = await tensorOf(png);

    expect(at(tensor, 0, 2, 3)).toBeCloseTo(1, 6);
  });

  it('gives the same tensor for a grayscale PNG as for the same pixels in RGB', async () => {
    const gray = new PNG({ width: 13, height: 7, colorType: 0 });
    for (let i = 0; i < 13 * 7; i++) {
      const v = (i * 37) % 256;
      gray.data.set([v, v, v, 255], i * 4);
    }
    const asGray = PNG.sync.write(gray, { colorType: 0 });
    const asRgb = PNG.sync.write(gray, { colorType: 2 });

    expect((await decode(asGray)).gray).toBe(true);
    expect((await decode(asRgb)).gray).toBe(false);
    expect([...(await tensorOf(asGray))]).toEqual([...(await tensorOf(asRgb))]);
  });

  it('interpolates between source pixels (bilinear, pixel centres aligned)', async () => {
    // A 2×1 image, black then white: height 4 makes it 8 columns wide.
    const png = new PNG({ width: 2, height: 1, colorType: 2 });
    png.data.set([0, 0, 0, 255, 255, 255, 255, 255]);
    const tensor = await tensorOf(PNG.sync.write(png, { colorType: 2 }));
    const row = Array.from({ length: 8 }, (_, x) => at(tensor, 0, 0, x) as number);

    // Edges clamp to the end pixels; the middle rises monotonically from black to white.
    expect(row[0]).toBeCloseTo(-1, 6);
    expect(row[7]).toBeCloseTo(1, 6);
    for (let x = 1; x < 8; x++) expect(row[x]).toBeGreaterThanOrEqual(row[x - 1] as number);
    expect(row[3]).toBeGreaterThan(-1);
    expect(row[4]).toBeLessThan(1);
  });
});

describe('encodeImageBatch', () => {
  it('encodes each image in its slot and reports the ones it cannot read, leaving their slot zero', async () => {
    const white = solidPng(4, 4, [255, 255, 255, 255]).toString('base64');
    const result = await encodeImageBatch({ input, images: [white, 'aGVsbG8=', white] });

    expect(result.data).toHaveLength(3 * 3 * plane);
    expect(result.failures).toEqual([
      null,
      { code: 'INVALID_IMAGE', message: expect.stringContaining('not those of a PNG, JPEG, WebP or TIFF') },
      null,
    ]);
    expect(result.data[0]).toBeCloseTo(1, 6);
    expect(result.data.subarray(3 * plane, 6 * plane).every((v) => v === 0)).toBe(true);
    expect(result.data[6 * plane]).toBeCloseTo(1, 6);
  });
});
