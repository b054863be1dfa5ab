import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assembleBilinear, generatedModuleOf } from '../../gpu-container/src/images/bilinear-assemble';
import { scalePlanes } from '../../gpu-container/src/images/bilinear';
import type { Pixels } from '../../gpu-container/src/images/bilinear';
import { mulberry32 } from '../../lib/seeded-random';

/** Bilinear scaling written the plain way, one target value at a time: what the kernel must agree with. */
const reference = (image: Pixels, sample: number, height: number, width: number, x: number, y: number) => {
  const source = (position: number, size: number, targetSize: number) => {
    const at = Math.min(Math.max((position + 0.5) * (size / targetSize) - 0.5, 0), size - 1);
    return { low: Math.floor(at), high: Math.min(Math.floor(at) + 1, size - 1), weight: at - Math.floor(at) };
  };
  const sx = source(x, image.width, width);
  const sy = source(y, image.height, height);
  const pixel = (px: number, py: number) =>
    image.pixels[(py * image.width + px) * image.channels + sample] as number;
  const top = pixel(sx.low, sy.low) * (1 - sx.weight) + pixel(sx.high, sy.low) * sx.weight;
  const bottom = pixel(sx.low, sy.high) * (1 - sx.weight) + pixel(sx.high, sy.high) * sx.weight;
  return top * (1 - sy.weight) + bottom * sy.weight;
};

const randomImage = (width: number, height: number, channels: number, seed: number): Pixels => {
  const random = mulberry32(seed);
  const pixels = new Uint8Array(width * height * channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(random() * 256);
  return { width, height, channels, pixels };
};

describe('the bilinear kernel', () => {
  it('is bilinear.wat as assembled now (run npm run build:wasm after editing it)', async () => {
    const committed = readFileSync(
      join(__dirname, '../../gpu-container/src/images/bilinear-wasm.ts'),
      'utf8',
    );
    expect(committed).toBe(generatedModuleOf(await assembleBilinear()));
  });

  it.each([
    { name: 'up, gray', width: 30, height: 7, channels: 1, to: [16, 69] },
    { name: 'down, RGB', width: 263, height: 43, channels: 3, to: [16, 40] },
    { name: 'down both ways, RGBA', width: 50, height: 40, channels: 4, to: [9, 11] },
    { name: 'one pixel', width: 1, height: 1, channels: 1, to: [3, 2] },
  ])(
    'scales $name as the plain formula does, with normalization and zero padding',
    ({ width, height, channels, to }) => {
      const [targetHeight, scaledWidth] = to as [number, number];
      const image = randomImage(width, height, channels, width * height);
      const paddedWidth = scaledWidth + 5;
      const specs = Array.from({ length: channels }, (_, sample) => ({
        sample,
        gain: 0.5 + sample,
        bias: -sample,
      }));

      const planes = scalePlanes(image, targetHeight, scaledWidth, paddedWidth, specs);

      expect(planes).toHaveLength(channels * targetHeight * paddedWidth);
      // Largest difference from the formula (normalized), and every padding value.
      let worst = 0;
      const padding: number[] = [];
      for (const [i, { sample, gain, bias }] of specs.entries()) {
        for (let y = 0; y < targetHeight; y++) {
          for (let x = 0; x < paddedWidth; x++) {
            const value = planes[(i * targetHeight + y) * paddedWidth + x] as number;
            if (x >= scaledWidth) padding.push(value);
            else {
              const expected = reference(image, sample, targetHeight, scaledWidth, x, y) * gain + bias;
              worst = Math.max(worst, Math.abs(value - expected));
            }
          }
        }
      }
      expect(worst).toBeLessThan(0.005);
      expect(new Set(padding)).toEqual(new Set([0]));
    },
  );

  it('grows its memory for a large image and keeps giving right answers for small ones after', () => {
    const large = randomImage(1200, 900, 3, 1);
    const small = randomImage(5, 4, 1, 2);

    const scaledLarge = scalePlanes(large, 48, 72, 72, [{ sample: 1, gain: 1, bias: 0 }]);
    expect(scaledLarge[48 * 72 - 1]).toBeCloseTo(reference(large, 1, 48, 72, 71, 47), 2);
    const scaledSmall = scalePlanes(small, 8, 10, 10, [{ sample: 0, gain: 1, bias: 0 }]);
    expect(scaledSmall[33]).toBeCloseTo(reference(small, 0, 8, 10, 3, 3), 2);
  });
});
