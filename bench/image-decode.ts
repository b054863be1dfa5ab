import './quiet';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import sharp from 'sharp';
import { imageLimitsFromEnv } from '../gpu-container/src/images/image-limits';
import { decodeImage, decodeWithSharp, writeImageTensor } from '../gpu-container/src/images/images';
import type { DecodedImage } from '../gpu-container/src/images/images';
import { pngSizeOf } from '../gpu-container/src/images/png';
import { readFileSync } from 'node:fs';
import { isImageInput, modelManifestSchema } from '../lib/models/manifest';
import { mulberry32 } from '../lib/seeded-random';
import { textCrops } from './text-crops';

/**
 * `npm run bench:images`: decoding and scaling one image to text-orientation's [N, 3, 48, 192]
 * input, per format, by each decoder the worker could use, as a ratio measured in one run on the
 * same images (rounds interleaved, the first one a warm-up). The worker keeps the faster per
 * format (images.ts): its own PNG decoder for PNGs up to 4 megapixels, sharp for the rest.
 * Writes bench/reports/images.json.
 */

const rounds = Number(process.argv.find((arg) => arg.startsWith('--rounds='))?.split('=')[1] ?? 5);

const manifestPath = resolve(__dirname, '../models/text-orientation/model.json');

/** Photo-like JPEGs: smooth noise (blurred), so that the entropy coder has real work. */
const photos = (count: number, width: number, height: number, seed: number) => {
  const random = mulberry32(seed);
  return Promise.all(
    Array.from({ length: count }, () =>
      sharp({
        create: {
          width,
          height,
          channels: 3,
          background: '#000000',
          noise: { type: 'gaussian', mean: 90 + Math.floor(random() * 80), sigma: 50 },
        },
      })
        .blur(1.5)
        .jpeg({ quality: 85 })
        .toBuffer(),
    ),
  );
};

type Decoder = (bytes: Buffer) => Promise<DecodedImage> | DecodedImage;

interface Row {
  images: string;
  count: number;
  /** Microseconds an image (decode + scale + normalize), by decoder. */
  microsecondsPerImage: Record<string, number>;
  /** The first decoder's time over the second's: above 1, the second is faster. */
  ratio?: number;
  worker: string;
}

const main = async () => {
  const manifest = modelManifestSchema.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  const input = manifest.inputs[0];
  if (!input || !isImageInput(input)) throw new Error('text-orientation reads no image');
  const target = { height: input.shape[2], width: input.shape[3] };
  const limits = imageLimitsFromEnv();
  const tensor = new Float32Array(3 * target.height * target.width);

  const crops = (await textCrops(96)).map((crop) => crop.png);
  const encoders = {
    jpeg: (png: Buffer) => sharp(png).jpeg({ quality: 90 }).toBuffer(),
    webp: (png: Buffer) => sharp(png).webp().toBuffer(),
    tiff: (png: Buffer) => sharp(png).tiff().toBuffer(),
  };
  const as = (format: keyof typeof encoders) => Promise.all(crops.map(encoders[format]));
  const sets: { images: string; bytes: Buffer[]; decoders: Record<string, Decoder>; worker: string }[] = [];

  const own: Decoder = (bytes) => decodeImage(bytes, target, limits);
  const sharpPng: Decoder = (bytes) => decodeWithSharp(bytes, pngSizeOf(bytes)!, target, limits);
  const jpegJs: Decoder = (bytes) => {
    const { width, height, data } = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxMemoryUsageInMB: 1024,
    });
    return { width, height, channels: 3, pixels: data, gray: false, opaque: true };
  };
  const viaWorker: Decoder = (bytes) => decodeImage(bytes, target, limits);
  sets.push({
    images: 'PNG text crops (48 px high, gray)',
    bytes: crops,
    decoders: { own: own, sharp: sharpPng },
    worker: 'own',
  });
  sets.push({
    images: 'JPEG text crops (q90)',
    bytes: await as('jpeg'),
    decoders: { 'jpeg-js': jpegJs, sharp: viaWorker },
    worker: 'sharp',
  });
  sets.push({
    images: 'JPEG photos 1600×1200 (q85)',
    bytes: await photos(8, 1600, 1200, 11),
    decoders: { 'jpeg-js': jpegJs, sharp: viaWorker },
    worker: 'sharp',
  });
  sets.push({
    images: 'JPEG photos 4000×3000 (q85, resized on load)',
    bytes: await photos(2, 4000, 3000, 12),
    decoders: { 'jpeg-js': jpegJs, sharp: viaWorker },
    worker: 'sharp',
  });
  sets.push({
    images: 'WebP text crops (lossy)',
    bytes: await as('webp'),
    decoders: { sharp: viaWorker },
    worker: 'sharp',
  });
  sets.push({
    images: 'TIFF text crops',
    bytes: await as('tiff'),
    decoders: { sharp: viaWorker },
    worker: 'sharp',
  });

  const rows: Row[] = [];
  for (const set of sets) {
    const totals: Record<string, number> = {};
    for (let round = 0; round <= rounds; round++) {
      for (const [name, decoder] of Object.entries(set.decoders)) {
        const started = performance.now();
        for (const bytes of set.bytes) writeImageTensor(await decoder(bytes), input, tensor, 0);
        if (round > 0) totals[name] = (totals[name] ?? 0) + performance.now() - started;
      }
    }
    const microsecondsPerImage = Object.fromEntries(
      Object.entries(totals).map(([name, ms]) => [name, Math.round((ms * 1000) / rounds / set.bytes.length)]),
    );
    const [first, second] = Object.values(microsecondsPerImage);
    rows.push({
      images: set.images,
      count: set.bytes.length,
      microsecondsPerImage,
      ...(second ? { ratio: Number(((first as number) / second).toFixed(2)) } : {}),
      worker: set.worker,
    });
  }

  const host = {
    cpu: cpus()[0]?.model ?? 'unknown',
    vcpus: availableParallelism(),
    sharp: sharp.versions.sharp,
    libvips: sharp.versions.vips,
  };
  const reportsDir = join(__dirname, 'reports');
  mkdirSync(reportsDir, { recursive: true });
  writeFileSync(join(reportsDir, 'images.json'), `${JSON.stringify({ host, rounds, rows }, null, 2)}\n`);

  console.log(
    `\n${host.cpu}, ${host.vcpus} vCPUs; sharp ${host.sharp} (libvips ${host.libvips}); ${rounds} rounds\n`,
  );
  const table = [
    ['images', 'µs an image (decode + scale to 3×48×192)', 'first / second', 'worker uses'],
    ...rows.map((row) => [
      `${row.images} ×${row.count}`,
      Object.entries(row.microsecondsPerImage)
        .map(([name, us]) => `${name} ${us}`)
        .join(' vs '),
      row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}`,
      row.worker,
    ]),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...table.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(table[0] as string[]));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of table.slice(1)) console.log(line(row));
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
