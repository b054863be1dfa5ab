import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Prediction } from '../../lib/models/tensors';
import type { FailureLine } from '../../lib/domain/worker-output';
import { useLocalStack } from '../support/local-stack';
import { handMadePng } from '../support/png-files';

const imagesDir = join(__dirname, '../fixtures/images');
const crops = readdirSync(imagesDir)
  .filter((name) => name.endsWith('.png'))
  .sort()
  .map((name) => ({ name, bytes: readFileSync(join(imagesDir, name)) }));
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');
const labelOf = (name: string) => (name.includes('upside-down') ? '180' : '0');

interface ObjectOutput {
  key: string;
  etag: string;
  prediction: Prediction;
}

describe('objects as records: a folder of images, or one image', () => {
  const local = useLocalStack();

  it('runs every image under a prefix as one record, joined into one output in key order, each bad object failing alone', async () => {
    const upright = crops.find(({ name }) => !name.includes('upside-down'))!.bytes;
    const jpeg = await sharp(upright).jpeg().toBuffer();
    const good = new Map<string, Buffer>(crops.map(({ name, bytes }) => [`scans/${name}`, bytes]));
    good.set('scans/as jpeg ✓ ünïcode.jpg', jpeg);
    good.set('scans/as-webp.webp', await sharp(upright).webp().toBuffer());
    good.set('scans/nested/as-tiff.tiff', await sharp(upright).tiff().toBuffer());
    const bad = new Map<string, [Buffer, string]>([
      ['scans/empty.png', [Buffer.alloc(0), 'INVALID_IMAGE']],
      ['scans/truncated.jpg', [jpeg.subarray(0, Math.floor(jpeg.length / 2)), 'INVALID_IMAGE']],
      ['scans/not-an-image.png', [Buffer.from('plain text, named like an image'), 'INVALID_IMAGE']],
      ['scans/readme.txt', [Buffer.from('a note beside the scans'), 'INVALID_IMAGE']],
      [
        'scans/bomb.png',
        [
          handMadePng({ width: 100_000, height: 100_000, bitDepth: 8, colorType: 0 }, Buffer.alloc(16)),
          'OBJECT_TOO_LARGE',
        ],
      ],
      ['scans/animated.gif', [await sharp(upright).gif().toBuffer(), 'INVALID_IMAGE']],
    ]);
    for (const [key, bytes] of good) await local.putInput(key, bytes);
    for (const [key, [bytes]] of bad) await local.putInput(key, bytes);
    const prefix = `s3://${local.stack.names.inputsBucket}/scans/`;

    // Four objects a shard: the 15 objects run in 4 shards, joined back in key order.
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'text-orientation', input: { s3Uri: prefix }, options: { maxObjectsPerShard: 4 } },
    });
    expect(submitted.status).toBe(202);
    const job = await local.waitForJob(String(submitted.json.jobId));

    expect(job).toMatchObject({
      status: 'completed',
      counts: { total: good.size + bad.size, succeeded: good.size, failed: bad.size },
    });
    const plan = JSON.parse(
      await local.readObject(`s3://${local.stack.names.outputsBucket}/work/${String(job.jobId)}/plan.json`),
    ) as { shards: unknown[] };
    expect(plan.shards).toHaveLength(4);
    const outputUri = `s3://${local.stack.names.outputsBucket}/outputs/${String(job.jobId)}/objects.out`;
    const outputs = await local.readJsonLines<ObjectOutput>(outputUri);
    const goodKeys = [...good.keys()].sort();
    expect(outputs.map(({ key }) => key)).toEqual(goodKeys);
    // The JPEG, WebP and TIFF are made from an upright crop.
    expect(outputs.map(({ key, etag, prediction }) => [key, etag, prediction.label])).toEqual(
      goodKeys.map((key) => [key, md5(good.get(key)!), labelOf(key)]),
    );
    const failures = await local.readJsonLines<FailureLine>(`${outputUri}.failed`);
    const allKeys = [...good.keys(), ...bad.keys()].sort();
    // Objects that fail before the model (empty) are written before those of batches still running.
    failures.sort((a, b) => a.line - b.line);
    expect(
      failures.map((failure) => [
        (JSON.parse(failure.record) as { key: string }).key,
        failure.line,
        failure.error.code,
      ]),
    ).toEqual([...bad.keys()].sort().map((key) => [key, allKeys.indexOf(key) + 1, bad.get(key)![1]]));
  });

  it('fails the job with EMPTY_INPUT when the folder holds no images', async () => {
    await local.putInput('notes-only/readme.txt', 'no images here');
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: {
        model: 'text-orientation',
        input: { s3Uri: `s3://${local.stack.names.inputsBucket}/notes-only/` },
      },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));

    expect(job).toMatchObject({ status: 'failed', error: { code: 'EMPTY_INPUT' } });
  });

  it('reads one image by URI as an async request: one line in S3, announced like any job', async () => {
    await local.listenToJobEvents();
    const { name, bytes } = crops.find((crop) => crop.name.includes('upside-down'))!;
    const uri = await local.putInput(`single/${name}`, bytes, 'image/png');
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'text-orientation', input: { s3Uri: uri } },
    });
    const jobId = String(submitted.json.jobId);
    const job = await local.waitForJob(jobId);

    expect(job).toMatchObject({ status: 'completed', counts: { total: 1, succeeded: 1, failed: 0 } });
    const [output, ...more] = await local.readJsonLines<ObjectOutput>(String(job.outputUri));
    expect(more).toEqual([]);
    expect(output).toMatchObject({ key: `single/${name}`, etag: md5(bytes), prediction: { label: '180' } });
    expect(await local.jobEvent(jobId)).toMatchObject({ type: 'job.completed', jobId });
  });

  it('writes SageMaker’s layout on request: a .out per object, named by its key under the prefix', async () => {
    const keys = crops.slice(0, 3).map(({ name }) => `layout/sub/${name}`);
    for (const [i, key] of keys.entries()) await local.putInput(key, crops[i]!.bytes);
    await local.putInput('layout/broken.png', Buffer.from('not an image'));
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: {
        model: 'text-orientation',
        input: { s3Uri: `s3://${local.stack.names.inputsBucket}/layout/` },
        options: { objectOutputs: 'perObject', maxObjectsPerShard: 2 },
      },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));

    expect(job).toMatchObject({ status: 'completed', counts: { total: 4, succeeded: 3, failed: 1 } });
    const folder = `s3://${local.stack.names.outputsBucket}/outputs/${String(job.jobId)}/`;
    for (const [i, key] of keys.entries()) {
      const lines = await local.readJsonLines<ObjectOutput>(`${folder}${key.slice('layout/'.length)}.out`);
      expect(lines).toEqual([
        { key, etag: md5(crops[i]!.bytes), prediction: expect.objectContaining({ label: labelOf(key) }) },
      ]);
    }
    const failures = await local.readJsonLines<FailureLine>(`${folder}objects.out.failed`);
    expect(failures.map((failure) => failure.error.code)).toEqual(['INVALID_IMAGE']);
  });

  it('retries the failed objects only, read again: one fixed since succeeds', async () => {
    await local.putInput('retry/good.png', crops[0]!.bytes);
    await local.putInput('retry/fixed-later.png', Buffer.from('not yet an image'));
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'text-orientation', input: { s3Uri: `s3://${local.stack.names.inputsBucket}/retry/` } },
    });
    const parent = await local.waitForJob(String(submitted.json.jobId));
    expect(parent).toMatchObject({ status: 'completed', counts: { total: 2, succeeded: 1, failed: 1 } });

    await local.putInput('retry/fixed-later.png', crops[1]!.bytes);
    const retried = await local.api(`/jobs/${String(parent.jobId)}/retry-failed`, { method: 'POST' });
    expect(retried.status).toBe(202);
    const retry = await local.waitForJob(String(retried.json.jobId));

    expect(retry).toMatchObject({ status: 'completed', counts: { total: 1, succeeded: 1, failed: 0 } });
    const outputs = await local.readJsonLines<ObjectOutput>(
      `s3://${local.stack.names.outputsBucket}/outputs/${String(retry.jobId)}/objects.out`,
    );
    expect(outputs).toEqual([
      {
        key: 'retry/fixed-later.png',
        etag: md5(crops[1]!.bytes),
        prediction: expect.objectContaining({ label: labelOf(crops[1]!.name) }),
      },
    ]);
  });
});
