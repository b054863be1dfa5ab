import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { defaultDecodeWholePixels } from '../../gpu-container/src/images/image-limits';

/**
 * A 60-megapixel scan through the worker's decoder, in a process of its own, measured by its peak
 * resident memory: what the decode adds must be a small part of the image's decoded size (180 MB
 * of RGB), not a multiple of it. Decoding the same file whole (decodeWholePixels raised above it)
 * shows what the measure sees when memory is not bounded.
 */
const width = 10_000;
const height = 6_000;
const decodedBytes = width * height * 3;

let folder: string;
const files: Record<string, string> = {};

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'image-memory-'));
  // A scanned page: paper, with a block of ink so that it is not all one colour; RGB, no alpha.
  const page = async () =>
    sharp(
      await sharp({ create: { width, height, channels: 3, background: '#f4f1ea' } })
        .composite([
          {
            input: { create: { width: 4_000, height: 600, channels: 3, background: '#202020' } },
            left: 1_000,
            top: 2_000,
          },
        ])
        .removeAlpha()
        .png({ compressionLevel: 1 })
        .toBuffer(),
    );
  files.jpeg = join(folder, 'scan.jpg');
  files.png = join(folder, 'scan.png');
  files.warm = join(folder, 'warm.png');
  const scan = await page();
  await scan.clone().jpeg({ quality: 85 }).toFile(files.jpeg);
  await scan.clone().png({ compressionLevel: 1 }).toFile(files.png);
  if ((await sharp(files.png).metadata()).channels !== 3) throw new Error('the scan must be RGB');
  writeFileSync(
    files.warm,
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer(),
  );
}, 120_000);

afterAll(() => rmSync(folder, { recursive: true, force: true }));

const peakGrowth = (file: string, decodeWholePixels: number) => {
  const output = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(__dirname, '../support/decode-peak-memory.ts'),
      file,
      String(decodeWholePixels),
      files.warm as string,
    ],
    { encoding: 'utf8' },
  );
  const {
    before,
    after,
    width: decodedWidth,
    height: decodedHeight,
  } = JSON.parse(output) as Record<string, number>;
  const ratio = ((after as number) - (before as number)) / decodedBytes;
  process.stdout.write(
    `${file}, decodeWholePixels ${decodeWholePixels}: peak grew ${ratio.toFixed(3)} × the image decoded\n`,
  );
  return { ratio, decodedWidth, decodedHeight };
};

describe('decoding a 60-megapixel scan', () => {
  it.each(['jpeg', 'png'] as const)(
    'resizes a %s as it reads it, its peak memory a small part of the image decoded whole',
    (format) => {
      const bounded = peakGrowth(files[format] as string, defaultDecodeWholePixels);
      const whole = peakGrowth(files[format] as string, 100_000_000);

      expect({ width: bounded.decodedWidth, height: bounded.decodedHeight }).toEqual({
        width: 80,
        height: 48,
      });
      expect(whole.decodedHeight).toBe(height);
      // libvips keeps a window of rows for the resize: it grows with the width, not the height.
      expect(bounded.ratio).toBeLessThan(0.25);
      expect(whole.ratio).toBeGreaterThan(0.9);
    },
    120_000,
  );
});
