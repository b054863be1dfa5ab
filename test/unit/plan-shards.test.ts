import {
  GetObjectCommand,
  HeadObjectCommand,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/plan-shards';
import { locationOf } from '../../lib/domain/s3-location';
import type { JobPlan } from '../../lib/domain/job-plan';
import { JobCannotRun } from '../../lib/errors';
import { planShards } from '../../lib/use-cases/steps/plan-shards';
import type { StepDeps } from '../../lib/use-cases/steps/step-deps';
import { setHandlerEnv, testResources } from '../fixtures/env';
import { InMemoryJobStore, InMemoryObjectStore, InMemoryShardProgressStore } from '../fixtures/in-memory';
import { aJob, churnRecords, jobId, storedJob, textObjectBody } from '../fixtures/jobs';
import { lambdaContext } from '../fixtures/lambda-context';
import { answerShippedModels, shippedModelCatalog } from '../fixtures/models';

const dynamo = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);

const inputs = testResources.inputsBucket;
const outputs = testResources.outputsBucket;
const records = `${churnRecords.map((r) => JSON.stringify(r)).join('\n')}\n`;
const running = aJob({ status: 'running', counts: { total: 0, succeeded: 0, failed: 0 } });

describe('planShards', () => {
  let store: InMemoryJobStore;
  let objects: InMemoryObjectStore;
  const deps = (): StepDeps => ({
    store,
    objects,
    progress: new InMemoryShardProgressStore(),
    models: shippedModelCatalog(),
    inputsBucket: inputs,
    outputsBucket: outputs,
  });

  beforeEach(() => {
    store = new InMemoryJobStore(running);
    objects = new InMemoryObjectStore();
    objects.put(locationOf(running.inputUri), records, 'application/x-ndjson');
  });

  it('stores the plan at work/<jobId>/plan.json and returns where it is and how many shards it has', async () => {
    const planned = await planShards(jobId, deps());

    expect(planned).toEqual({ shardCount: 1, planUri: `s3://${outputs}/work/${jobId}/plan.json` });
    const plan = JSON.parse(objects.text(locationOf(planned.planUri)) ?? '{}') as JobPlan;
    expect(plan).toMatchObject({ jobId, model: 'churn-risk', totalRecords: 2, options: running.options });
    expect(plan.shards).toHaveLength(1);
  });

  it('records the shard count and the record total on the job', async () => {
    await planShards(jobId, deps());

    expect(await store.get(jobId)).toMatchObject({
      shardCount: 1,
      counts: { total: 2, succeeded: 0, failed: 0 },
    });
  });

  it('plans the same way when run twice, as a retried task is', async () => {
    const first = await planShards(jobId, deps());
    const plan = objects.text(locationOf(first.planUri));

    const second = await planShards(jobId, deps());

    expect(second).toEqual(first);
    expect(objects.text(locationOf(second.planUri))).toBe(plan);
  });

  it('reports an input the job cannot run on and throws JobCannotRun with its code', async () => {
    objects.objects.clear();

    const planning = planShards(jobId, deps());

    await expect(planning).rejects.toBeInstanceOf(JobCannotRun);
    await expect(planning).rejects.toMatchObject({ name: 'JobCannotRun', code: 'INPUT_NOT_FOUND' });
    expect(JSON.parse(objects.text({ bucket: outputs, key: `work/${jobId}/report.json` }) ?? '{}')).toEqual({
      status: 'failed',
      error: { code: 'INPUT_NOT_FOUND', message: `The input ${running.inputUri} does not exist.` },
    });
    expect(objects.keys(outputs)).not.toContain(`work/${jobId}/plan.json`);
    expect((await store.get(jobId))?.shardCount).toBeUndefined();
  });

  it('reports EMPTY_INPUT the same way for an input without records', async () => {
    objects.put(locationOf(running.inputUri), '\n\n');

    await expect(planShards(jobId, deps())).rejects.toMatchObject({
      name: 'JobCannotRun',
      code: 'EMPTY_INPUT',
    });
    expect(objects.text({ bucket: outputs, key: `work/${jobId}/report.json` })).toContain('EMPTY_INPUT');
  });

  it('reports UNSUPPORTED_FORMAT the same way for an input of a format it cannot read', async () => {
    store = new InMemoryJobStore({ ...running, inputUri: `s3://${inputs}/data/x.parquet` });
    objects.put({ bucket: inputs, key: 'data/x.parquet' }, 'PAR1');

    await expect(planShards(jobId, deps())).rejects.toMatchObject({
      name: 'JobCannotRun',
      code: 'UNSUPPORTED_FORMAT',
    });
    expect(objects.text({ bucket: outputs, key: `work/${jobId}/report.json` })).toContain(
      'UNSUPPORTED_FORMAT',
    );
  });

  it('reports MODEL_NOT_FOUND for a job whose model is no longer served', async () => {
    store = new InMemoryJobStore({ ...running, model: 'retired-model' });

    await expect(planShards(jobId, deps())).rejects.toMatchObject({
      name: 'JobCannotRun',
      code: 'MODEL_NOT_FOUND',
    });
  });

  it('lets a storage failure through untouched, for the state machine to retry, and reports nothing', async () => {
    objects.head = async () => Promise.reject(new Error('SlowDown'));

    await expect(planShards(jobId, deps())).rejects.toThrow('SlowDown');
    expect(objects.keys(outputs)).toEqual([]);
  });
});

describe('plan-shards handler', () => {
  const inputKey = locationOf(running.inputUri);

  beforeEach(() => {
    setHandlerEnv();
    dynamo.reset();
    answerShippedModels(dynamo);
    s3.reset();
    dynamo.on(GetCommand, { TableName: testResources.jobsTable }).resolves({ Item: storedJob(running) });
    dynamo.on(UpdateCommand).resolves({});
    s3.on(HeadObjectCommand).rejects(
      new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } }),
    );
    s3.on(HeadObjectCommand, { Bucket: inputs, Key: inputKey.key }).resolves({
      ContentLength: Buffer.byteLength(records),
      ContentType: 'application/x-ndjson',
    });
    s3.on(GetObjectCommand, { Bucket: inputs, Key: inputKey.key }).callsFake(() => ({
      Body: textObjectBody(records),
    }));
    s3.on(PutObjectCommand).resolves({});
  });

  it('plans the job with the AWS adapters and records the plan on a running job only', async () => {
    const result = await handler({ jobId }, lambdaContext('longtail-test-planShards'));

    expect(result).toEqual({ shardCount: 1, planUri: `s3://${outputs}/work/${jobId}/plan.json` });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: outputs,
      Key: `work/${jobId}/plan.json`,
      ContentType: 'application/json',
    });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { jobId },
      ConditionExpression: '#status = :running',
      ExpressionAttributeValues: {
        ':shards': 1,
        ':total': 2,
        ':counted': true,
        ':bytes': Buffer.byteLength(records),
        ':running': 'running',
      },
    });
  });

  it('fails with JobCannotRun, after writing the report, when the input does not exist', async () => {
    s3.on(HeadObjectCommand).rejects(
      new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } }),
    );

    await expect(handler({ jobId }, lambdaContext('longtail-test-planShards'))).rejects.toMatchObject({
      name: 'JobCannotRun',
    });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: outputs,
      Key: `work/${jobId}/report.json`,
    });
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
  });
});
