import { createHash } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { resetClients } from '../../lib/aws/clients';
import { ObjectNotFound } from '../../lib/ports/object-store';
import { S3ObjectStore } from '../../lib/aws/s3';
import { joinObjects } from '../../lib/use-cases/steps/join-objects';
import { Conflict, TransitionRejected } from '../../lib/errors';
import type { Job } from '../../lib/domain/job';
import {
  StepFunctionsExecutionLookup,
  StepFunctionsExecutionRedriver,
  StepFunctionsExecutionStarter,
} from '../../lib/aws/step-functions';
import { ExecutionNotRedrivable } from '../../lib/errors';
import { SFNClient, StartExecutionCommand, GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { SqsJobQueue } from '../../lib/aws/sqs';
import { defaultJobOptions } from '../../lib/domain/job-options';
import { DynamoJobStore } from '../../lib/aws/dynamodb/job-store';
import { DynamoShardProgressStore } from '../../lib/aws/dynamodb/shard-progress-store';
import type { ShardProgress } from '../../lib/domain/shard-progress';
import { startAwsEndpoint } from '../../local/aws-endpoint';
import type { AwsEndpoint } from '../../local/aws-endpoint';
import { loadServerlessConfig } from '../../local/serverless-config';
import { LocalStepFunctions } from '../../local/stepfunctions';

const dataDir = mkdtempSync(join(tmpdir(), 'longtail-adapters-'));
const region = 'us-east-1';
let endpoint: AwsEndpoint;
let stateMachineArn: string;
let flakyMachineArn: string;
let flakyCalls = 0;

const jobFor = (jobId: string, ownerId: string, createdAt: string): Job => ({
  jobId,
  ownerId,
  status: 'pending',
  model: 'churn-risk',
  modelVersion: '1',
  input: { type: 'records', recordCount: 1 },
  inputUri: 's3://in/x.jsonl',
  outputUri: 's3://out/x.jsonl.out',
  failureUri: 's3://out/x.jsonl.out.failed',
  counts: { total: 0, succeeded: 0, failed: 0 },
  createdAt,
  options: defaultJobOptions(),
  source: 'api',
});

beforeAll(async () => {
  const stepFunctions = new LocalStepFunctions(region, '000000000000', join(dataDir, 'executions.json'));
  stateMachineArn = stepFunctions.registerStateMachine(
    'adapters-test',
    { StartAt: 'Wait a little', States: { 'Wait a little': { Type: 'Wait', Seconds: 1, End: true } } },
    () => undefined,
  );
  // A Task that fails on its first call and succeeds after: what a redrive is for.
  flakyMachineArn = stepFunctions.registerStateMachine(
    'adapters-redrive',
    {
      StartAt: 'First',
      States: {
        First: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:000000000000:function:first',
          Next: 'Flaky',
        },
        Flaky: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:flaky', End: true },
      },
    },
    (resource) =>
      resource.endsWith(':first')
        ? async (input) => input
        : async () => {
            flakyCalls++;
            if (flakyCalls === 1)
              throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
            return { ok: true };
          },
  );
  endpoint = await startAwsEndpoint({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    services: { states: stepFunctions.serve },
  });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint.url,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    JOBS_TABLE: 'adapters-jobs',
    STATE_MACHINE_ARN: stateMachineArn,
  });
  resetClients();
  const table = loadServerlessConfig().resources.Resources.JobsTable!.Properties!;
  const dynamo = new DynamoDBClient({ endpoint: endpoint.url, region });
  await dynamo.send(
    new CreateTableCommand({
      TableName: 'adapters-jobs',
      AttributeDefinitions: table.AttributeDefinitions,
      KeySchema: table.KeySchema,
      GlobalSecondaryIndexes: table.GlobalSecondaryIndexes,
      BillingMode: table.BillingMode,
    } as CreateTableCommandInput),
  );
  dynamo.destroy();
});

afterAll(async () => {
  await endpoint.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('DynamoJobStore against the DynamoDB emulator', () => {
  const store = new DynamoJobStore();

  it('refuses a second job with the same id', async () => {
    await store.create(jobFor('job-dup', 'carol', '2026-01-01T00:00:00.000Z'));
    await expect(store.create(jobFor('job-dup', 'carol', '2026-01-01T00:00:00.000Z'))).rejects.toBeInstanceOf(
      Conflict,
    );
  });

  it('lets exactly one of three racing endings win', async () => {
    await store.create(jobFor('job-race', 'carol', '2026-01-02T00:00:00.000Z'));
    await store.transition('job-race', 'running');

    const outcomes = await Promise.allSettled([
      store.transition('job-race', 'completed', { completedAt: 'now' }),
      store.transition('job-race', 'failed', { error: { code: 'X', message: 'x' } }),
      store.transition('job-race', 'cancelled'),
    ]);

    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(rejected.every((o) => o.reason instanceof TransitionRejected)).toBe(true);
    const winner = (outcomes.find((o) => o.status === 'fulfilled') as PromiseFulfilledResult<Job>).value;
    expect((await store.get('job-race'))?.status).toBe(winner.status);
  });

  it('never moves a job backwards', async () => {
    await store.create(jobFor('job-back', 'carol', '2026-01-03T00:00:00.000Z'));
    await store.transition('job-back', 'running');
    await store.transition('job-back', 'completed');
    await expect(store.transition('job-back', 'running')).rejects.toBeInstanceOf(TransitionRejected);
  });

  it('lists every job still running past the grace period, page after page, oldest first', async () => {
    for (let day = 1; day <= 3; day++) {
      await store.create(jobFor(`erin-${day}`, 'erin', `2025-03-0${day}T00:00:00.000Z`));
      await store.transition(`erin-${day}`, 'running');
    }
    await store.create(jobFor('erin-new', 'erin', '2025-03-09T00:00:00.000Z'));
    await store.transition('erin-new', 'running');

    const stuck = await store.listActive('running', '2025-03-05T00:00:00.000Z', 1);

    expect(stuck.map((j) => j.jobId)).toEqual(['erin-1', 'erin-2', 'erin-3']);
  });

  it('pages through an owner’s jobs newest first, and by status', async () => {
    for (let day = 1; day <= 5; day++)
      await store.create(jobFor(`dave-${day}`, 'dave', `2026-02-0${day}T00:00:00.000Z`));
    await store.transition('dave-2', 'running');

    const first = await store.listByOwner('dave', { limit: 3 });
    const second = await store.listByOwner('dave', { limit: 3, cursor: first.nextCursor });
    const running = await store.listByOwner('dave', { limit: 10, status: 'running' });

    expect([...first.jobs, ...second.jobs].map((j) => j.jobId)).toEqual([
      'dave-5',
      'dave-4',
      'dave-3',
      'dave-2',
      'dave-1',
    ]);
    expect(second.nextCursor).toBeUndefined();
    expect(running.jobs.map((j) => j.jobId)).toEqual(['dave-2']);
  });
});

describe('DynamoJobStore.recordPlan against the DynamoDB emulator', () => {
  const store = new DynamoJobStore();

  it("records a running job's shard count and record total", async () => {
    await store.create(jobFor('job-planned', 'erin', '2026-03-01T00:00:00.000Z'));
    await store.transition('job-planned', 'running');

    await store.recordPlan('job-planned', { shardCount: 4, totalRecords: 1234 });

    expect(await store.get('job-planned')).toMatchObject({
      shardCount: 4,
      counts: { total: 1234, succeeded: 0, failed: 0 },
    });
  });

  it('records the input size, and leaves the total for the end when planning did not count it', async () => {
    await store.create(jobFor('job-uncounted', 'erin', '2026-03-03T00:00:00.000Z'));
    await store.transition('job-uncounted', 'running');

    await store.recordPlan('job-uncounted', { shardCount: 7, inputBytes: 5e11 });

    expect(await store.get('job-uncounted')).toMatchObject({
      shardCount: 7,
      inputBytes: 5e11,
      recordsCounted: false,
      counts: { total: 0, succeeded: 0, failed: 0 },
    });
  });

  it('does not plan a job that is not running', async () => {
    await store.create(jobFor('job-unplanned', 'erin', '2026-03-02T00:00:00.000Z'));

    await expect(store.recordPlan('job-unplanned', { shardCount: 1, totalRecords: 1 })).rejects.toThrow();
    expect((await store.get('job-unplanned'))?.shardCount).toBeUndefined();
  });
});

describe('DynamoShardProgressStore against the DynamoDB emulator', () => {
  const progress = new DynamoShardProgressStore();
  const store = new DynamoJobStore();
  const row = (overrides: Partial<ShardProgress>): ShardProgress => ({
    index: 0,
    status: 'running',
    attempt: 1,
    processed: 0,
    succeeded: 0,
    failed: 0,
    updatedAt: '2026-04-01T00:00:00.000Z',
    ...overrides,
  });

  it("lists a job's shard rows in shard order, and no other job's", async () => {
    await progress.report('job-shards', row({ index: 2, status: 'succeeded', processed: 5, succeeded: 5 }));
    await progress.report(
      'job-shards',
      row({ index: 0, status: 'running', processed: 3, succeeded: 2, failed: 1 }),
    );
    await progress.report('job-other', row({ index: 1 }));
    await progress.report(
      'job-shards',
      row({ index: 1, status: 'failed', error: { code: 'INFERENCE_FAILED', message: 'bad tensor' } }),
    );

    const rows = await progress.listFor('job-shards');

    expect(rows.map((r) => [r.index, r.status])).toEqual([
      [0, 'running'],
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
    expect(rows[0]).toEqual(row({ index: 0, status: 'running', processed: 3, succeeded: 2, failed: 1 }));
    expect(rows[1]?.error).toEqual({ code: 'INFERENCE_FAILED', message: 'bad tensor' });
  });

  it('keeps the bytes and lines a shard read', async () => {
    await progress.report('job-read', row({ status: 'succeeded', bytes: 123_456, lines: 789 }));

    expect(await progress.listFor('job-read')).toEqual([
      row({ status: 'succeeded', bytes: 123_456, lines: 789 }),
    ]);
  });

  it('lets a newer attempt replace a shard row, and never an older one', async () => {
    await progress.report('job-attempts', row({ attempt: 1, status: 'failed', processed: 7, failed: 7 }));
    await progress.report('job-attempts', row({ attempt: 2, status: 'running', processed: 1, succeeded: 1 }));
    await progress.report('job-attempts', row({ attempt: 1, status: 'failed', processed: 9, failed: 9 }));
    await progress.report(
      'job-attempts',
      row({ attempt: 2, status: 'succeeded', processed: 10, succeeded: 10 }),
    );

    expect(await progress.listFor('job-attempts')).toEqual([
      row({ attempt: 2, status: 'succeeded', processed: 10, succeeded: 10 }),
    ]);
  });

  it("keeps a shard's row apart from its job's record", async () => {
    await store.create(jobFor('job-apart', 'erin', '2026-04-02T00:00:00.000Z'));

    await progress.report('job-apart', row({ index: 0, processed: 4, succeeded: 4 }));

    expect(await store.get('job-apart')).toEqual(jobFor('job-apart', 'erin', '2026-04-02T00:00:00.000Z'));
    expect(await store.get('job-apart#shard#0')).toMatchObject({ shardOf: 'job-apart', shardIndex: 0 });
  });
});

const md5 = (body: string | Buffer) => createHash('md5').update(body).digest('hex');

describe('S3ObjectStore against the S3 emulator', () => {
  const objects = new S3ObjectStore();

  beforeAll(async () => {
    const s3 = new S3Client({ endpoint: endpoint.url, region, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'adapters-bucket' }));
    s3.destroy();
  });

  it('streams a body larger than one multipart part up and back', async () => {
    const line = `${'x'.repeat(1023)}\n`;
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < 12 * 1024; i++) yield line;
      })(),
    );

    await objects.upload({ bucket: 'adapters-bucket', key: 'big.txt' }, body, 'text/plain');
    let bytes = 0;
    for await (const chunk of await objects.openRead({ bucket: 'adapters-bucket', key: 'big.txt' }))
      bytes += (chunk as Buffer).length;

    expect(bytes).toBe(12 * 1024 * 1024);
  });

  it('reads a byte range, inclusive of both ends', async () => {
    await objects.putText({ bucket: 'adapters-bucket', key: 'range.txt' }, 'abcdefghij', 'text/plain');

    let text = '';
    for await (const chunk of await objects.openRange({ bucket: 'adapters-bucket', key: 'range.txt' }, 2, 5))
      text += (chunk as Buffer).toString('utf8');

    expect(text).toBe('cdef');
  });

  it('heads an object for its size and content type, and says undefined for a missing one', async () => {
    await objects.putText({ bucket: 'adapters-bucket', key: 'head.csv' }, 'a,b\n1,2\n', 'text/csv');

    expect(await objects.head({ bucket: 'adapters-bucket', key: 'head.csv' })).toEqual({
      key: 'head.csv',
      size: 8,
      contentType: 'text/csv',
      etag: md5('a,b\n1,2\n'),
    });
    expect(await objects.head({ bucket: 'adapters-bucket', key: 'no-such.csv' })).toBeUndefined();
  });

  it('reads a whole object with its ETag, refusing one over the limit without reading it', async () => {
    const bucket = 'adapters-bucket';
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
    await objects.upload({ bucket, key: 'whole.png' }, Readable.from([bytes]), 'image/png');

    expect(await objects.readObject({ bucket, key: 'whole.png' })).toEqual({
      body: bytes,
      etag: md5(bytes),
      contentType: 'image/png',
    });
    await expect(objects.readObject({ bucket, key: 'whole.png' }, 7)).rejects.toMatchObject({
      name: 'ObjectTooLarge',
      size: 8,
    });
    await expect(objects.readObject({ bucket, key: 'no-such.png' })).rejects.toMatchObject({
      name: 'ObjectNotFound',
    });
  });

  it('lists every object under a prefix, in key order', async () => {
    for (const key of ['listed/b.jsonl', 'listed/a/1.jsonl', 'listed-not/x.jsonl', 'listed/c.jsonl'])
      await objects.putText({ bucket: 'adapters-bucket', key }, '{}\n', 'application/x-ndjson');

    const listed: string[] = [];
    const etags = new Set<string | undefined>();
    for await (const object of objects.list('adapters-bucket', 'listed/')) {
      listed.push(object.key);
      etags.add(object.etag);
    }

    expect(listed).toEqual(['listed/a/1.jsonl', 'listed/b.jsonl', 'listed/c.jsonl']);
    expect([...etags]).toEqual([md5('{}\n')]);
  });

  it('joins objects server-side: large ones copied as parts (UploadPartCopy), small ones read to fill a part', async () => {
    const bucket = 'adapters-bucket';
    const big = `${'b'.repeat(6 * 1024 * 1024 - 1)}\n`;
    const sources = [
      { key: 'join/0.out', body: 'small first\n' },
      { key: 'join/1.out', body: `${'a'.repeat(11 * 1024 * 1024 - 1)}\n` },
      { key: 'join/2.out', body: '' },
      { key: 'join/3.out', body: big },
      { key: 'join/4.out', body: 'small last\n' },
    ];
    for (const { key, body } of sources) await objects.putText({ bucket, key }, body, 'text/plain');
    const copied: string[] = [];
    const copyPart = objects.copyPart.bind(objects);
    const counting = Object.assign(Object.create(objects) as S3ObjectStore, {
      copyPart: async (...args: Parameters<S3ObjectStore['copyPart']>) => {
        copied.push(args[3].key);
        return copyPart(...args);
      },
    });

    await joinObjects(
      counting,
      { bucket, key: 'join/all.out' },
      sources.map(({ key, body }) => ({ location: { bucket, key }, size: Buffer.byteLength(body) })),
      'text/plain',
    );

    let joined = '';
    for await (const chunk of await objects.openRead({ bucket, key: 'join/all.out' }))
      joined += (chunk as Buffer).toString('utf8');
    expect(joined).toBe(sources.map(({ body }) => body).join(''));
    expect(copied).toEqual(['join/1.out', 'join/3.out']);
    expect(objects.copiesPartsInStore).toBe(true);
    expect(await objects.head({ bucket, key: 'join/all.out' })).toMatchObject({ contentType: 'text/plain' });
  });

  it('says ObjectNotFound for a missing object, and undefined for missing JSON', async () => {
    await expect(objects.openRead({ bucket: 'adapters-bucket', key: 'nope' })).rejects.toBeInstanceOf(
      ObjectNotFound,
    );
    await expect(objects.readJson({ bucket: 'adapters-bucket', key: 'nope.json' })).resolves.toBeUndefined();
  });
});

describe('SqsJobQueue against the SQS emulator', () => {
  it('sends the job id as the message body', async () => {
    const sqs = new SQSClient({ endpoint: endpoint.url, region });
    const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: 'adapters-jobs' }));
    process.env.JOBS_QUEUE_URL = QueueUrl;

    await new SqsJobQueue().enqueue({ jobId: 'job-queued' });
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    sqs.destroy();

    expect(Messages.map((m) => JSON.parse(m.Body ?? '{}'))).toEqual([{ jobId: 'job-queued' }]);
  });
});

describe('StepFunctionsExecutionStarter against the local Step Functions', () => {
  it('starts one execution however often it is asked', async () => {
    const starter = new StepFunctionsExecutionStarter();

    const first = await starter.start('job-once');
    const again = await starter.start('job-once');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const afterItEnded = await starter.start('job-once');

    expect(first).toEqual({
      executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:job-once`,
      alreadyStarted: false,
    });
    expect(again.executionArn).toBe(first.executionArn);
    expect(afterItEnded).toEqual({ executionArn: first.executionArn, alreadyStarted: true });
  });
});

describe('StepFunctionsExecutionRedriver against the local Step Functions', () => {
  const waitFor = async (executionArn: string, status: string) => {
    const lookup = new StepFunctionsExecutionLookup();
    for (let i = 0; i < 200; i++) {
      if ((await lookup.describe(executionArn))?.status === status) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`${executionArn} never ${status}`);
  };

  it('continues a failed execution from its failed state, under the same ARN, and refuses a succeeded one', async () => {
    const sfn = new SFNClient({ endpoint: endpoint.url, region });
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: flakyMachineArn, name: 'redrive-me', input: '{"n":1}' }),
    );
    await waitFor(executionArn, 'FAILED');
    const redriver = new StepFunctionsExecutionRedriver();

    await redriver.redrive(executionArn);
    await waitFor(executionArn, 'SUCCEEDED');

    const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    sfn.destroy();
    expect(flakyCalls).toBe(2);
    // The state that had succeeded ran once; the redrive is in the history.
    expect(events.filter((e) => e.stateEnteredEventDetails?.name === 'First')).toHaveLength(1);
    expect(events.map((e) => e.type)).toContain('ExecutionRedriven');
    await expect(redriver.redrive(executionArn)).rejects.toBeInstanceOf(ExecutionNotRedrivable);
    await expect(redriver.redrive(`${executionArn}-unknown`)).rejects.toBeInstanceOf(ExecutionNotRedrivable);
  });
});

describe('DynamoJobStore.reopen and DynamoShardProgressStore.get against the DynamoDB emulator', () => {
  const store = new DynamoJobStore();
  const progress = new DynamoShardProgressStore();

  it('moves a failed job back to running, clearing its error and end, and nothing else', async () => {
    await store.create(jobFor('job-reopen', 'frank', '2026-05-01T00:00:00.000Z'));
    await store.transition('job-reopen', 'running');
    await store.transition('job-reopen', 'failed', {
      completedAt: '2026-05-01T00:01:00.000Z',
      error: { code: 'WORKER_FAILED', message: 'host lost' },
      partialOutputs: ['s3://out/part'],
    });

    const reopened = await store.reopen('job-reopen', '2026-05-01T00:02:00.000Z');

    expect(reopened).toMatchObject({ status: 'running', resumedAt: '2026-05-01T00:02:00.000Z' });
    expect(reopened.error).toBeUndefined();
    expect(reopened.completedAt).toBeUndefined();
    expect(reopened.partialOutputs).toBeUndefined();
    expect((await store.listActive('running', '2026-06-01T00:00:00.000Z')).map((j) => j.jobId)).toContain(
      'job-reopen',
    );
    await expect(store.reopen('job-reopen', '2026-05-01T00:03:00.000Z')).rejects.toMatchObject({
      name: 'TransitionRejected',
    });
  });

  it("reads one shard's row", async () => {
    await progress.report('job-get', {
      index: 3,
      status: 'succeeded',
      attempt: 2,
      processed: 5,
      succeeded: 5,
      failed: 0,
      updatedAt: '2026-05-01T00:00:00.000Z',
    });

    expect(await progress.get('job-get', 3)).toMatchObject({ index: 3, status: 'succeeded', attempt: 2 });
    expect(await progress.get('job-get', 4)).toBeUndefined();
  });
});
