import { PNG } from 'pngjs';
import sharp from 'sharp';
import { decodeImage } from '../../gpu-container/src/images/images';
import { decodeCommonPng } from '../../gpu-container/src/images/png';
import { mulberry32 } from '../../lib/seeded-random';
import { chunk, handMadePng } from '../support/png-files';

const maxPixels = 1_000_000;

/** Random 8-bit RGBA pixels, the same for the same seed. */
const noise = (width: number, height: number, seed: number) => {
  const random = mulberry32(seed);
  const png = new PNG({ width, height });
  for (let i = 0; i < png.data.length; i++) png.data[i] = Math.floor(random() * 256);
  return png;
};

/** pngjs's reading of the same bytes, as samples in the layout decodeCommonPng gives. */
const pngjsSamples = (bytes: Buffer, channels: number) => {
  const { data } = PNG.sync.read(bytes);
  const pick = channels === 1 ? [0] : channels === 2 ? [0, 3] : channels === 3 ? [0, 1, 2] : [0, 1, 2, 3];
  const out: number[] = [];
  for (let i = 0; i < data.length; i += 4) for (const p of pick) out.push(data[i + p] as number);
  return out;
};

describe('decodeCommonPng', () => {
  const colourTypes = [
    { colorType: 0, channels: 1 },
    { colorType: 4, channels: 2 },
    { colorType: 2, channels: 3 },
    { colorType: 6, channels: 4 },
  ] as const;

  it.each(colourTypes)(
    'reads colour type $colorType through every row filter as pngjs does',
    ({ colorType, channels }) => {
      for (let filterType = 0; filterType <= 4; filterType++) {
        const bytes = PNG.sync.write(noise(37, 11, filterType + 1), {
          colorType,
          filterType,
          inputHasAlpha: true,
        });
        const decoded = decodeCommonPng(bytes, maxPixels);

        expect(decoded).toMatchObject({ width: 37, height: 11, channels });
        expect([...(decoded?.data ?? [])]).toEqual(pngjsSamples(bytes, channels));
      }
    },
  );

  it('reads rows whose filters change from row to row (adaptive filtering)', () => {
    const bytes = PNG.sync.write(noise(64, 16, 9), { colorType: 2, filterType: -1 });
    expect([...(decodeCommonPng(bytes, maxPixels)?.data ?? [])]).toEqual(pngjsSamples(bytes, 3));
  });

  it('expands palette images to RGB, or RGBA when a tRNS chunk gives entries alpha', () => {
    const palette = chunk('PLTE', Buffer.from([255, 0, 0, 0, 0, 255]));
    const rows = Buffer.from([0, 0, 1, 0, 1, 0]); // two rows of two indices, filter None
    const opaque = decodeCommonPng(
      handMadePng({ width: 2, height: 2, bitDepth: 8, colorType: 3 }, rows, [palette]),
      maxPixels,
    );
    const translucent = decodeCommonPng(
      handMadePng({ width: 2, height: 2, bitDepth: 8, colorType: 3 }, rows, [
        palette,
        chunk('tRNS', Buffer.from([128])),
      ]),
      maxPixels,
    );

    expect(opaque?.channels).toBe(3);
    expect([...(opaque?.data ?? [])]).toEqual([255, 0, 0, 0, 0, 255, 0, 0, 255, 255, 0, 0]);
    expect(translucent?.channels).toBe(4);
    // Entries past the tRNS chunk's end are opaque.
    expect([...(translucent?.data.subarray(0, 8) ?? [])]).toEqual([255, 0, 0, 128, 0, 0, 255, 255]);
  });

  it('reads the palette PNGs an image library writes', async () => {
    const random = mulberry32(3);
    const raw = Buffer.from(Array.from({ length: 24 * 10 * 3 }, () => (random() < 0.5 ? 20 : 230)));
    const bytes = await sharp(raw, { raw: { width: 24, height: 10, channels: 3 } })
      .png({ palette: true })
      .toBuffer();
    expect(bytes[25]).toBe(3); // IHDR colour type: palette

    expect([...(decodeCommonPng(bytes, maxPixels)?.data ?? [])]).toEqual(pngjsSamples(bytes, 3));
  });

  it('leaves 16-bit, sub-byte, interlaced and colour-keyed PNGs to the general decoder', async () => {
    const sixteenBit = handMadePng(
      { width: 1, height: 1, bitDepth: 16, colorType: 0 },
      Buffer.from([0, 0x12, 0x34]),
    );
    const twoBit = handMadePng(
      { width: 4, height: 1, bitDepth: 2, colorType: 0 },
      Buffer.from([0, 0b00011011]),
    );
    const colourKeyed = handMadePng({ width: 1, height: 1, bitDepth: 8, colorType: 0 }, Buffer.from([0, 7]), [
      chunk('tRNS', Buffer.from([0, 7])),
    ]);
    const interlaced = await sharp(Buffer.alloc(16 * 16 * 3, 90), {
      raw: { width: 16, height: 16, channels: 3 },
    })
      .png({ progressive: true })
      .toBuffer();

    for (const bytes of [sixteenBit, twoBit, colourKeyed, interlaced]) {
      expect(decodeCommonPng(bytes, maxPixels)).toBeUndefined();
    }
    // decodeImage reads them all the same, through sharp.
    const decode = (bytes: Buffer) => decodeImage(bytes, { height: 48, width: 192 });
    expect(await decode(sixteenBit)).toMatchObject({ width: 1, height: 1, gray: true });
    expect((await decode(sixteenBit)).pixels[0]).toBe(0x12);
    const sharpTwoBit = await decode(twoBit);
    expect(sharpTwoBit.gray).toBe(true);
    const firstSamples = [...sharpTwoBit.pixels].filter((_, i) => i % sharpTwoBit.channels === 0);
    expect(firstSamples).toEqual([0, 85, 170, 255]);
    expect((await decode(colourKeyed)).opaque).toBe(false);
    expect(await decode(interlaced)).toMatchObject({ width: 16, height: 16 });
    expect((await decode(interlaced)).pixels[0]).toBe(90);
  });

  it('refuses damaged PNGs with a reason', () => {
    const header = { width: 2, height: 2, bitDepth: 8, colorType: 0 };

    expect(() => decodeCommonPng(handMadePng(header, Buffer.from([0, 1, 2, 9, 3, 4])), maxPixels)).toThrow(
      'unknown PNG row filter 9',
    );
    expect(() => decodeCommonPng(handMadePng(header, Buffer.from([0, 1, 2])), maxPixels)).toThrow(
      'shorter than its size says',
    );
    expect(() =>
      decodeCommonPng(handMadePng({ ...header, colorType: 3 }, Buffer.from([0, 0, 0, 0, 0, 0])), maxPixels),
    ).toThrow('no PLTE chunk');
    expect(() =>
      decodeCommonPng(handMadePng({ ...header, colorType: 5 }, Buffer.alloc(6)), maxPixels),
    ).toThrow('unknown colour type 5');
    expect(() =>
      decodeCommonPng(handMadePng({ ...header, width: 2000, height: 2000 }, Buffer.alloc(6)), maxPixels),
    ).toThrow('more pixels than allowed');
    // Rows for a 2×200 image behind a 2×2 header: refused before inflating all of it.
    expect(() => decodeCommonPng(handMadePng(header, Buffer.alloc(600)), maxPixels)).toThrow(
      'longer than its size says',
    );
    const good = handMadePng(header, Buffer.from([0, 1, 2, 0, 3, 4]));
    expect(() => decodeCommonPng(good.subarray(0, 40), maxPixels)).toThrow('no IDAT chunk');
    // IEND is 12 bytes and IDAT's CRC 4: 18 off the end cuts into the data.
    expect(() => decodeCommonPng(good.subarray(0, good.length - 18), maxPixels)).toThrow(
      'IDAT chunk cut short',
    );
    const corrupted = Buffer.from(good);
    corrupted.writeUInt8(corrupted.readUInt8(good.length - 20) ^ 0xff, good.length - 20); // inside the deflate stream
    expect(() => decodeCommonPng(corrupted, maxPixels)).toThrow();
  });
});
