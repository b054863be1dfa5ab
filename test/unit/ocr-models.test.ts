import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadModelFiles } from '../../gpu-container/src/model-loader';
import { openShardModel } from '../../gpu-container/src/shard-model';
import type { OpenedModel } from '../../gpu-container/src/shard-model';
import { installPackagedModels } from '../../models/install-packaged';

/**
 * The two PaddleOCR models through the worker's own preprocessing and decoding, on text crops
 * rendered once into test/fixtures/images (upright, and turned upside down).
 */
const modelsDir = join(__dirname, '../../models');
const imagesDir = join(__dirname, '../fixtures/images');
const crops = readdirSync(imagesDir)
  .filter((name) => name.endsWith('.png'))
  .map((name) => ({ name, image: readFileSync(join(imagesDir, name)).toString('base64') }));

const open = async (name: string): Promise<OpenedModel> =>
  openShardModel(await loadModelFiles(modelsDir, name), 'cpu', { preprocessThreads: 0 });

beforeAll(async () => {
  await installPackagedModels(modelsDir, join(__dirname, '../..'));
});

describe('text-orientation', () => {
  it('says 0 for upright lines and 180 for lines upside down, with confidence', async () => {
    const model = await open('text-orientation');
    try {
      const { predictions } = await model.model.run(crops.map(({ image }) => ({ image })));

      expect(crops.length).toBe(6);
      crops.forEach(({ name }, i) => {
        const expected = name.includes('upside-down') ? '180' : '0';
        expect({ name, label: predictions[i]?.label }).toEqual({ name, label: expected });
        expect(predictions[i]?.score).toBeGreaterThan(0.9);
        expect(Object.keys(predictions[i]?.scores ?? {})).toEqual(['0', '180']);
      });
    } finally {
      await model.close();
    }
  });
});

describe('text-orientation in every format the worker reads', () => {
  it("gives the PNG crops' labels, and their scores but for rounding, as JPEG, WebP, TIFF and 25× scans", async () => {
    const pngs = crops.map(({ image }) => Buffer.from(image, 'base64'));
    const scan = async (png: Buffer) => {
      const { width = 0, height = 0 } = await sharp(png).metadata();
      // 25 times larger: past the decode buffer, so resized as it is read.
      return sharp(png)
        .resize(width * 25, height * 25, { kernel: 'nearest' })
        .png()
        .toBuffer();
    };
    const formats = {
      jpeg: (png: Buffer) => sharp(png).jpeg({ quality: 90 }).toBuffer(),
      webp: (png: Buffer) => sharp(png).webp({ lossless: true }).toBuffer(),
      tiff: (png: Buffer) => sharp(png).tiff({ compression: 'deflate' }).toBuffer(),
      scan,
    };
    const model = await open('text-orientation');
    try {
      const asPng = (await model.model.run(crops.map(({ image }) => ({ image })))).predictions;
      for (const [format, encode] of Object.entries(formats)) {
        const images = await Promise.all(pngs.map(async (png) => (await encode(png)).toString('base64')));
        const { predictions, failures } = await model.model.run(images.map((image) => ({ image })));

        expect({ format, failures }).toEqual({ format, failures: crops.map(() => null) });
        expect({ format, labels: predictions.map((p) => p.label) }).toEqual({
          format,
          labels: asPng.map((p) => p.label),
        });
        predictions.forEach((prediction, i) =>
          expect(Math.abs(prediction.score - (asPng[i]?.score ?? 0))).toBeLessThan(0.01),
        );
      }
    } finally {
      await model.close();
    }
  });
});

describe('text-recognition', () => {
  it('reads upright lines word for word', async () => {
    const model = await open('text-recognition');
    try {
      const upright = crops.filter(({ name }) => name.includes('upright'));
      const { predictions } = await model.model.run(upright.map(({ image }) => ({ image })));

      expect(upright.map(({ name }, i) => [name, predictions[i]?.label.trim()])).toEqual([
        ['invoice-upright.png', 'Invoice 2026-11-25'],
        ['order-upright.png', 'Order #A-77310'],
        ['signature-upright.png', 'Signature required'],
      ]);
      for (const prediction of predictions) expect(prediction.score).toBeGreaterThan(0.8);
    } finally {
      await model.close();
    }
  });

  it('reads the same in inference lanes, through a preprocessing pool and on the calling thread', async () => {
    const files = await loadModelFiles(modelsDir, 'text-recognition');
    const opened = await Promise.all([
      openShardModel(files, 'cpu', { lanes: 0, preprocessThreads: 0 }),
      openShardModel(files, 'cpu', { lanes: 0, preprocessThreads: 2 }),
      openShardModel(files, 'cpu', { lanes: 2 }),
    ]);
    try {
      expect(opened.map(({ lanes, preprocessThreads }) => [lanes, preprocessThreads])).toEqual([
        [0, 0],
        [0, 2],
        [2, 0],
      ]);
      const records = [...crops.map(({ image }) => ({ image })), { image: 'aGVsbG8=' }];
      const [inline, pooled, lanes] = await Promise.all(opened.map(({ model }) => model.run(records)));

      expect(inline?.failures.at(-1)).toEqual({
        code: 'INVALID_IMAGE',
        message: expect.stringMatching(/not those of a PNG, JPEG, WebP or TIFF/),
      });
      for (const other of [pooled, lanes]) {
        expect(other?.failures).toEqual(inline?.failures);
        expect(other?.predictions.slice(0, -1)).toEqual(inline?.predictions.slice(0, -1));
      }
    } finally {
      await Promise.all(opened.map(({ close }) => close()));
    }
  });
});

describe('inference lanes', () => {
  it('fail to open, before any batch, when their model cannot load', async () => {
    const files = await loadModelFiles(modelsDir, 'text-orientation');
    const broken = { ...files, onnxPath: join(imagesDir, 'invoice-upright.png') };

    await expect(openShardModel(broken, 'cpu', { lanes: 2 })).rejects.toThrow(/Load model from .* failed/);
  });
});
