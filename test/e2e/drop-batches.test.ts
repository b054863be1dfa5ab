import { GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { S3Event } from 'aws-lambda';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { useLocalStack } from '../support/local-stack';

/**
 * Images dropped under drop/<model>/ through the local runtime: S3 → drops queue → s3Drop with a
 * batching window, as in AWS: one job per batch, over a manifest of exactly the dropped keys,
 * whose images are its records, joined into one output.
 */

interface ListedJob {
  jobId: string;
  status: string;
  source: string;
  model: string;
  input: { type: string; s3Uri?: string; s3DataType?: string };
}

const notifications: S3Event[] = [];
// A window longer than the default, so that 25 uploads on a busy machine land in one.
const local = useLocalStack(
  async (stack) => {
    stack.stack.onS3Notification((event) => notifications.push(event));
  },
  { dropBatchWindowSeconds: 10 },
);

const folder = 'drop/text-orientation/scans 2026-12-05';
const imageKeys = Array.from({ length: 25 }, (_, i) => `${folder}/page ${String(i).padStart(2, '0')}.png`);
const crops = readdirSync(join(__dirname, '../fixtures/images'))
  .filter((name) => name.endsWith('.png'))
  .sort()
  .map((name) => ({ name, bytes: readFileSync(join(__dirname, '../fixtures/images', name)) }));
const cropFor = (i: number) => crops[i % crops.length]!;

const jobs = async () => ((await local.api('/jobs?limit=100')).json.jobs as ListedJob[] | undefined) ?? [];
const manifestJobs = async () => (await jobs()).filter((job) => job.input.s3DataType === 'ManifestFile');
const waitFor = async <T>(find: () => Promise<T | undefined>, what: string, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`Still no ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

/** Until every message the drops queue received has been handled (none waiting, none in flight). */
const dropsQueueDrained = () =>
  waitFor(async () => {
    const { Attributes = {} } = await local.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: local.stack.names.dropsQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return Number(Attributes.ApproximateNumberOfMessages) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible) ===
      0
      ? true
      : undefined;
  }, 'drained drops queue');

const manifestKeysOf = async (job: ListedJob) => {
  const manifest = JSON.parse(await local.readObject(job.input.s3Uri ?? '')) as [
    { prefix: string },
    ...string[],
  ];
  const [{ prefix }, ...relative] = manifest;
  return relative.map((key) => `${prefix}${key}`);
};

describe('drops that batch themselves', () => {
  let batchJob: ListedJob;
  const jsonlKey = 'drop/churn-risk/beside the scans.jsonl';

  it('makes one job, from the drop, over a manifest of exactly the 25 images dropped together', async () => {
    const jsonlUri = local.putInput(jsonlKey, toJsonLines(demoCustomers(5, 7)));
    await Promise.all([...imageKeys.map((key, i) => local.putInput(key, cropFor(i).bytes)), jsonlUri]);

    batchJob = await waitFor(async () => (await manifestJobs())[0], 'job for the dropped images');
    await dropsQueueDrained();

    const batches = await manifestJobs();
    expect(batches).toHaveLength(1);
    expect(batchJob).toMatchObject({ source: 's3-drop', model: 'text-orientation' });
    expect(batchJob.input.s3Uri).toBe(
      `s3://${local.stack.names.inputsBucket}/drop-manifests/${batchJob.jobId}.manifest.json`,
    );
    const listed = await manifestKeysOf(batchJob);
    expect(listed).toEqual(imageKeys.map((key) => `s3://${local.stack.names.inputsBucket}/${key}`));
  }, 120_000);

  it('adds no job and no record when the same S3 events come again, twice each', async () => {
    const imageEvents = notifications.filter((event) =>
      event.Records[0]?.s3.object.key.startsWith('drop/text-orientation/'),
    );
    expect(imageEvents).toHaveLength(25);
    const before = (await jobs()).length;

    const bodies = [...imageEvents, ...imageEvents].map((event) => JSON.stringify(event));
    for (let start = 0; start < bodies.length; start += 10) {
      await local.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: local.stack.names.dropsQueueUrl,
          Entries: bodies.slice(start, start + 10).map((MessageBody, i) => ({ Id: String(i), MessageBody })),
        }),
      );
    }
    await dropsQueueDrained();

    expect((await jobs()).length).toBe(before);
    expect((await manifestJobs()).map((job) => job.jobId)).toEqual([batchJob.jobId]);
    expect(await manifestKeysOf(batchJob)).toHaveLength(25);
  }, 120_000);

  it('runs the batch job: every dropped image one record, one output in key order', async () => {
    const finished = await local.waitForJob(batchJob.jobId);

    expect(finished).toMatchObject({ status: 'completed', counts: { total: 25, succeeded: 25, failed: 0 } });
    const outputs = await local.readJsonLines<{ key: string; prediction: { label: string } }>(
      `s3://${local.stack.names.outputsBucket}/outputs/${batchJob.jobId}/objects.out`,
    );
    expect(outputs.map(({ key, prediction }) => [key, prediction.label])).toEqual(
      imageKeys.map((key, i) => [key, cropFor(i).name.includes('upside-down') ? '180' : '0']),
    );
  }, 120_000);

  it('gives a JSON Lines file dropped among the images its own job, which completes', async () => {
    const inputUri = `s3://${local.stack.names.inputsBucket}/${jsonlKey}`;
    const own = await waitFor(
      async () => (await jobs()).find((job) => job.input.s3Uri === inputUri),
      'job for the JSON Lines file',
    );

    expect(own.input.s3DataType).toBe('S3Object');
    const finished = await local.waitForJob(own.jobId);
    expect(finished.status).toBe('completed');
    expect(finished.counts).toEqual({ total: 5, succeeded: 5, failed: 0 });
  }, 120_000);

  it('starts a job for a single image dropped alone, once its window has passed', async () => {
    const key = 'drop/text-orientation/alone.png';
    await local.putInput(key, cropFor(0).bytes);

    const job = await waitFor(async () => {
      for (const candidate of await manifestJobs()) {
        if (candidate.jobId === batchJob.jobId) continue;
        if ((await manifestKeysOf(candidate)).some((uri) => uri.endsWith(key))) return candidate;
      }
      return undefined;
    }, 'job for the single image');

    expect(await manifestKeysOf(job)).toEqual([`s3://${local.stack.names.inputsBucket}/${key}`]);
  }, 120_000);
});
