import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Prediction } from '../../lib/models/tensors';
import sharp from 'sharp';
import { useLocalStack } from '../support/local-stack';
import { handMadePng } from '../support/png-files';
import type { FailureLine } from '../../lib/domain/worker-output';

const imagesDir = join(__dirname, '../fixtures/images');
const crops = readdirSync(imagesDir)
  .filter((name) => name.endsWith('.png'))
  .map((name) => ({
    id: name.replace(/\.png$/, ''),
    image: readFileSync(join(imagesDir, name)).toString('base64'),
  }));

describe('image models on the local runtime', () => {
  const local = useLocalStack();

  it('classifies text orientation of inline crops, and fails only the record whose image cannot be read', async () => {
    const notAnImage = { id: 'not-an-image', image: Buffer.from('plain text').toString('base64') };
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: {
        model: 'text-orientation',
        input: { records: [...crops, notAnImage] },
        options: { joinSource: 'Input', outputFilter: "$['id','prediction']", maxBatchSize: 4 },
      },
    });
    expect(submitted.status).toBe(202);
    const job = await local.waitForJob(String(submitted.json.jobId));

    expect(job.status).toBe('completed');
    expect(job.counts).toEqual({ total: 7, succeeded: 6, failed: 1 });
    const outputs = await local.readJsonLines<{ id: string; prediction: Prediction }>(job.outputUri);
    expect(outputs.map(({ id, prediction }) => [id, prediction.label])).toEqual(
      crops.map(({ id }) => [id, id.endsWith('upside-down') ? '180' : '0']),
    );
    const failures = await local.readJsonLines<FailureLine>(job.failureUri);
    expect(failures).toEqual([
      expect.objectContaining({
        line: 7,
        error: {
          code: 'INVALID_IMAGE',
          message:
            'The file is not an image the worker reads: its first bytes are not those of a PNG, JPEG, WebP or TIFF.',
        },
      }),
    ]);
  });

  it('reads JPEG, WebP and TIFF crops, and fails each bad image alone with its code', async () => {
    const [upright, upsideDown] = [crops[0], crops.find(({ id }) => id.endsWith('upside-down'))].map((crop) =>
      Buffer.from(crop?.image ?? '', 'base64'),
    ) as [Buffer, Buffer];
    const jpeg = await sharp(upright).jpeg().toBuffer();
    const records = [
      { id: 'jpeg', image: jpeg },
      { id: 'webp', image: await sharp(upsideDown).webp().toBuffer() },
      { id: 'tiff', image: await sharp(upright).tiff().toBuffer() },
      { id: 'truncated-jpeg', image: jpeg.subarray(0, Math.floor(jpeg.length / 2)) },
      {
        id: 'png-bomb',
        image: handMadePng({ width: 100_000, height: 100_000, bitDepth: 8, colorType: 0 }, Buffer.alloc(16)),
      },
      { id: 'gif', image: await sharp(upright).gif().toBuffer() },
    ].map(({ id, image }) => ({ id, image: image.toString('base64') }));
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: {
        model: 'text-orientation',
        input: { records },
        options: { joinSource: 'Input', outputFilter: "$['id','prediction']", maxBatchSize: 8 },
      },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));

    expect(job.status).toBe('completed');
    const outputs = await local.readJsonLines<{ id: string; prediction: Prediction }>(job.outputUri);
    expect(outputs.map(({ id, prediction }) => [id, prediction.label])).toEqual([
      ['jpeg', crops[0]?.id.endsWith('upside-down') ? '180' : '0'],
      ['webp', '180'],
      ['tiff', crops[0]?.id.endsWith('upside-down') ? '180' : '0'],
    ]);
    const failures = await local.readJsonLines<FailureLine>(job.failureUri);
    expect(failures.map(({ line, error }) => [line, error.code])).toEqual([
      [4, 'INVALID_IMAGE'],
      [5, 'OBJECT_TOO_LARGE'],
      [6, 'INVALID_IMAGE'],
    ]);
  });

  it('reads the text of crops in an S3 file with the recognizer', async () => {
    const upright = crops.filter(({ id }) => id.endsWith('upright'));
    const inputUri = await local.putInput(
      'e2e/lines.jsonl',
      upright.map((crop) => JSON.stringify(crop)).join('\n') + '\n',
    );

    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: {
        model: 'text-recognition',
        input: { s3Uri: inputUri },
        options: { joinSource: 'Input', outputFilter: "$['id','prediction']" },
      },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));

    expect(job.status).toBe('completed');
    const outputs = await local.readJsonLines<{ id: string; prediction: Prediction }>(job.outputUri);
    expect(outputs.map(({ id, prediction }) => [id, prediction.label.trim()])).toEqual([
      ['invoice-upright', 'Invoice 2026-11-25'],
      ['order-upright', 'Order #A-77310'],
      ['signature-upright', 'Signature required'],
    ]);
  });

  it('refuses at submit time an image field that is not base64', async () => {
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'text-orientation', input: { records: [{ image: 'not base64!' }] } },
    });

    expect(submitted.status).toBe(400);
    expect(JSON.stringify(submitted.json)).toContain(
      'expected a base64-encoded image (PNG, JPEG, WebP or TIFF)',
    );
  });
});
