import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Prediction } from '../../lib/models/tensors';
import { useLocalStack } from '../support/local-stack';
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
        error: { code: 'INVALID_IMAGE', message: 'The image is neither a PNG nor a JPEG.' },
      }),
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
    expect(JSON.stringify(submitted.json)).toContain('expected a base64-encoded PNG or JPEG');
  });
});
