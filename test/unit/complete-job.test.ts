import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { PutObjectCommandInput } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/complete-job';
import type { ShardProgress } from '../../lib/domain/shard-progress';
import { assignmentsOf, fromStatusesOf } from '../fixtures/dynamo-updates';
import { setHandlerEnv, testResources } from '../fixtures/env';
import {
  aJob,
  aShardProgress,
  executionArn,
  jobId,
  jsonObjectBody,
  storedJob,
  storedShardRow,
  textObjectBody,
} from '../fixtures/jobs';
import { lambdaContext } from '../fixtures/lambda-context';
import { aPlan } from '../fixtures/plans';

const dynamo = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);

const outputs = testResources.outputsBucket;
const planKey = { Bucket: outputs, Key: `work/${jobId}/plan.json` };
const shardKey = (index: number, kind: 'out' | 'failed') => ({
  Bucket: outputs,
  Key: `work/${jobId}/shards/${index}.${kind}`,
});
const plan = aPlan({ records: [2, 1] });
const [file] = plan.files;

const finalize = () => handler({ jobId }, lambdaContext('longtail-test-completeJob'));

const running = aJob({
  status: 'running',
  executionArn,
  startedAt: '2025-01-01T00:01:00.000Z',
  shardCount: 2,
  counts: { total: 3, succeeded: 0, failed: 0 },
});

const noSuchKey = () => new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });

/** A shard object the worker left: readable, and listed with its size. */
let listed: { Key: string; Size: number }[] = [];
const givenShardObject = (index: number, kind: 'out' | 'failed', text: string) => {
  const key = shardKey(index, kind);
  s3.on(GetObjectCommand, key).resolves({ Body: textObjectBody(text) });
  listed.push({ Key: key.Key, Size: Buffer.byteLength(text) });
};

const givenShardRows = (...rows: ShardProgress[]) =>
  dynamo.on(QueryCommand).resolves({ Items: rows.map((row) => storedShardRow(jobId, row)) });

/** The text written to `key` in the outputs bucket. */
const writtenTo = (uri: string | undefined) => {
  const key = (uri ?? '').replace(`s3://${outputs}/`, '');
  const put = s3
    .commandCalls(PutObjectCommand)
    .map((call) => call.args[0].input as PutObjectCommandInput)
    .find((input) => input.Bucket === outputs && input.Key === key);
  return put ? Buffer.from(put.Body as Uint8Array).toString('utf8') : undefined;
};

describe('complete-job handler', () => {
  beforeEach(() => {
    setHandlerEnv();
    dynamo.reset();
    s3.reset();
    dynamo.on(GetCommand).resolves({ Item: storedJob(running) });
    dynamo.on(UpdateCommand).callsFake((input: UpdateCommandInput) => ({
      Attributes: storedJob({ ...running, ...assignmentsOf(input) }),
    }));
    s3.on(GetObjectCommand).rejects(noSuchKey());
    s3.on(GetObjectCommand, planKey).resolves({ Body: jsonObjectBody(plan) });
    s3.on(PutObjectCommand).resolves({});
    listed = [];
    s3.on(ListObjectsV2Command).callsFake(() => ({ Contents: listed }));
    givenShardRows(
      aShardProgress({ index: 0, processed: 2, succeeded: 1, failed: 1 }),
      aShardProgress({ index: 1, processed: 1, succeeded: 1 }),
    );
  });

  it('writes what made the outputs beside them: the model version, its checksum, the options and the counts', async () => {
    await finalize();

    const put = s3
      .commandCalls(PutObjectCommand)
      .find((call) => call.args[0].input.Key === `outputs/${jobId}/_metadata.json`);
    expect(put?.args[0].input.Bucket).toBe(testResources.outputsBucket);
    const metadata = JSON.parse(String(put?.args[0].input.Body)) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      jobId,
      model: { name: 'churn-risk' },
      options: plan.options,
      counts: { total: 3, succeeded: 2, failed: 1 },
    });
  });

  it('takes the total from the shards when planning did not count the records', async () => {
    const { totalRecords: _counted, ...uncounted } = aPlan({ records: [2, 1] });
    uncounted.files = uncounted.files.map(({ records: _records, ...rest }) => rest);
    s3.on(GetObjectCommand, planKey).resolves({ Body: jsonObjectBody(uncounted) });
    givenShardRows(
      aShardProgress({ index: 0, processed: 5, succeeded: 4, failed: 1 }),
      aShardProgress({ index: 1, processed: 2, succeeded: 2 }),
    );

    await expect(finalize()).resolves.toMatchObject({ counts: { total: 7, succeeded: 6, failed: 1 } });
    const metadata = JSON.parse(writtenTo(`s3://${outputs}/outputs/${jobId}/_metadata.json`) ?? '{}') as {
      files: { records: number }[];
    };
    expect(metadata.files.map((f) => f.records)).toEqual([7]);
  });

  it('fails a job whose shards found no record at all', async () => {
    const { totalRecords: _counted, ...uncounted } = aPlan({ records: [2, 1] });
    s3.on(GetObjectCommand, planKey).resolves({ Body: jsonObjectBody(uncounted) });
    givenShardRows(aShardProgress({ index: 0 }), aShardProgress({ index: 1 }));

    await expect(finalize()).rejects.toMatchObject({
      name: 'AllRecordsFailed',
      message: 'The input holds no records.',
    });
  });

  it("completes the running job with the counts summed from its shards' rows", async () => {
    const event = await finalize();

    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, {
      TableName: testResources.jobsTable,
      IndexName: 'byShardOf',
      ExpressionAttributeValues: { ':jobId': jobId },
    });
    const update = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(fromStatusesOf(update)).toEqual(['running']);
    const counts = { total: 3, succeeded: 2, failed: 1 };
    expect(assignmentsOf(update)).toMatchObject({
      status: 'completed',
      ownerStatus: 'alice#completed',
      counts,
    });
    expect(event).toEqual({
      type: 'job.completed',
      jobId,
      ownerId: 'alice',
      status: 'completed',
      model: 'churn-risk',
      modelVersion: '1',
      modelChecksum: null,
      outputUri: running.outputUri,
      failureUri: running.failureUri,
      counts,
      error: null,
      startedAt: running.startedAt,
      completedAt: expect.any(String),
      executionArn,
    });
  });

  it("joins the shards' outputs and failures, in shard order, into the file's .out and .out.failed", async () => {
    givenShardObject(0, 'out', '{"label":"a"}\n');
    givenShardObject(1, 'out', '{"label":"b"}\n');
    givenShardObject(
      0,
      'failed',
      '{"line":2,"record":"x","error":{"code":"MALFORMED_JSON","message":"m"}}\n',
    );
    givenShardObject(1, 'failed', '');

    await finalize();

    expect(writtenTo(file?.outputUri)).toBe('{"label":"a"}\n{"label":"b"}\n');
    expect(writtenTo(file?.failureUri)).toBe(
      '{"line":2,"record":"x","error":{"code":"MALFORMED_JSON","message":"m"}}\n',
    );
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Key: `outputs/${jobId}/records.jsonl.out`,
      ContentType: 'application/x-ndjson',
    });
  });

  it('leaves out a shard that wrote no output object', async () => {
    givenShardObject(1, 'out', '{"label":"b"}\n');

    await finalize();

    expect(writtenTo(file?.outputUri)).toBe('{"label":"b"}\n');
    expect(writtenTo(file?.failureUri)).toBe('');
  });

  it('throws AllRecordsFailed, naming the failure files, when no record succeeded', async () => {
    givenShardRows(
      aShardProgress({ index: 0, processed: 2, failed: 2 }),
      aShardProgress({ index: 1, processed: 1, failed: 1 }),
    );

    const finalizing = finalize();

    await expect(finalizing).rejects.toMatchObject({
      name: 'AllRecordsFailed',
      code: 'ALL_RECORDS_FAILED',
      message: `All 3 records failed; see the failure files under ${running.failureUri}.`,
    });
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('still writes the failure file of a job whose every record failed, for the owner to read', async () => {
    givenShardRows(aShardProgress({ index: 0, processed: 2, failed: 2 }));
    givenShardObject(0, 'failed', '{"line":1}\n{"line":2}\n');

    await expect(finalize()).rejects.toMatchObject({ name: 'AllRecordsFailed' });

    expect(writtenTo(file?.failureUri)).toBe('{"line":1}\n{"line":2}\n');
  });

  it('throws TooManyFailedRecords when more records failed than maxFailedRecordsPercent allows', async () => {
    const strict = aPlan({ records: [2, 1], jobOptions: { maxFailedRecordsPercent: 20 } });
    s3.on(GetObjectCommand, planKey).resolves({ Body: jsonObjectBody(strict) });

    await expect(finalize()).rejects.toMatchObject({
      name: 'TooManyFailedRecords',
      code: 'TOO_MANY_FAILED_RECORDS',
      message: '1 of 3 records failed, more than maxFailedRecordsPercent (20%).',
    });
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('completes a job whose failures stay within maxFailedRecordsPercent', async () => {
    const lenient = aPlan({ records: [2, 1], jobOptions: { maxFailedRecordsPercent: 34 } });
    s3.on(GetObjectCommand, planKey).resolves({ Body: jsonObjectBody(lenient) });

    await expect(finalize()).resolves.toMatchObject({ status: 'completed' });
  });

  it('fails when the job has no plan', async () => {
    s3.on(GetObjectCommand, planKey).rejects(noSuchKey());

    await expect(finalize()).rejects.toThrow(`Job ${jobId} has no plan`);
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('returns the completed job as is when a duplicate run finds it already completed', async () => {
    const counts = { total: 3, succeeded: 2, failed: 1 };
    const completed = aJob({
      ...running,
      status: 'completed',
      counts,
      completedAt: '2025-01-01T00:05:00.000Z',
    });
    dynamo.on(GetCommand).resolves({ Item: storedJob(completed) });
    dynamo
      .on(UpdateCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );

    const event = await finalize();

    expect(event).toMatchObject({
      type: 'job.completed',
      status: 'completed',
      counts,
      completedAt: '2025-01-01T00:05:00.000Z',
    });
  });

  it('does not complete a job that was cancelled meanwhile', async () => {
    dynamo.on(GetCommand).resolves({ Item: storedJob(aJob({ ...running, status: 'cancelled' })) });
    dynamo
      .on(UpdateCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );

    await expect(finalize()).rejects.toMatchObject({ name: 'TransitionRejected' });
  });
});
