import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/get-job';
import { defaultJobOptions } from '../../lib/domain/job-options';
import { setHandlerEnv, testResources } from '../fixtures/env';
import { bodyOf, getJobEvent } from '../fixtures/http-events';
import type { ErrorBody } from '../fixtures/http-events';
import { aJob, aShardProgress, executionArn, jobId, storedJob, storedShardRow } from '../fixtures/jobs';
import { lambdaContext } from '../fixtures/lambda-context';

const dynamo = mockClient(DynamoDBDocumentClient);

describe('get-job handler', () => {
  beforeEach(() => {
    setHandlerEnv();
    dynamo.reset();
  });

  it("answers 200 with the caller's job and a link to it", async () => {
    const job = aJob({
      status: 'completed',
      counts: { total: 3, succeeded: 2, failed: 1 },
      startedAt: '2025-01-01T00:01:00.000Z',
      completedAt: '2025-01-01T00:05:00.000Z',
      executionArn,
    });
    dynamo
      .on(GetCommand, { TableName: testResources.jobsTable, Key: { jobId } })
      .resolves({ Item: storedJob(job) });

    const response = await handler(getJobEvent(jobId), lambdaContext());

    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toEqual({
      jobId,
      status: 'completed',
      model: 'churn-risk',
      modelVersion: '1',
      modelChecksum: null,
      input: { type: 'records', recordCount: 3 },
      options: defaultJobOptions(),
      source: 'api',
      parentJobId: null,
      outputUri: job.outputUri,
      failureUri: job.failureUri,
      counts: { total: 3, succeeded: 2, failed: 1 },
      shards: null,
      bytes: null,
      createdAt: '2025-01-01T00:00:00.000Z',
      startedAt: '2025-01-01T00:01:00.000Z',
      completedAt: '2025-01-01T00:05:00.000Z',
      error: null,
      cancelRequestedAt: null,
      partialOutputs: null,
      executionArn,
      consoleUrl: `https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${executionArn}`,
      webhookUrl: null,
      webhookAttempts: [],
      statusUrl: `${testResources.publicApiUrl}/jobs/${jobId}`,
      cost: null,
    });
  });

  it('prices the usage a finished job recorded, on demand and on Spot', async () => {
    const usage = {
      instanceType: 'g4dn.xlarge',
      measuredBy: 'aws-batch' as const,
      attempts: [{ batchJobId: 'b', shard: null, attempt: 1, startedAt: 'a', stoppedAt: 'b', seconds: 1800 }],
      gpuSeconds: 1800,
      stateTransitions: 8,
    };
    dynamo.on(GetCommand).resolves({ Item: storedJob(aJob({ status: 'completed', usage })) });

    const body = bodyOf(await handler(getJobEvent(jobId), lambdaContext())) as {
      cost: { gpu: { onDemand: number }; total: { spot: number }; currency: string; attempts: number };
    };

    // Half an hour at config/prices.json's $0.526/h.
    expect(body.cost.gpu.onDemand).toBeCloseTo(0.263, 10);
    expect(body.cost.total.spot).toBeGreaterThan(0);
    expect(body.cost).toMatchObject({ currency: 'USD', attempts: 1 });
  });

  it("shows a running job's progress, summed from its shards' rows", async () => {
    const job = aJob({ status: 'running', shardCount: 4, counts: { total: 1000, succeeded: 0, failed: 0 } });
    dynamo.on(GetCommand).resolves({ Item: storedJob(job) });
    dynamo
      .on(QueryCommand, { IndexName: 'byShardOf', ExpressionAttributeValues: { ':jobId': jobId } })
      .resolves({
        Items: [
          storedShardRow(
            jobId,
            aShardProgress({ index: 0, status: 'succeeded', processed: 250, succeeded: 248, failed: 2 }),
          ),
          storedShardRow(
            jobId,
            aShardProgress({ index: 1, status: 'running', processed: 100, succeeded: 100 }),
          ),
          storedShardRow(
            jobId,
            aShardProgress({ index: 3, status: 'failed', processed: 10, succeeded: 5, failed: 5 }),
          ),
        ],
      });

    const response = await handler(getJobEvent(jobId), lambdaContext());

    expect(bodyOf(response)).toMatchObject({
      status: 'running',
      counts: { total: 1000, succeeded: 353, failed: 7 },
      shards: { total: 4, pending: 1, running: 1, succeeded: 1, failed: 1 },
    });
  });

  it('shows a null total and bytes read of the input for a running job too large to count at planning', async () => {
    const job = aJob({ status: 'running', shardCount: 2, inputBytes: 5_000, recordsCounted: false });
    dynamo.on(GetCommand).resolves({ Item: storedJob(job) });
    dynamo.on(QueryCommand).resolves({
      Items: [
        storedShardRow(jobId, aShardProgress({ index: 0, processed: 30, succeeded: 30, bytes: 2_500 })),
        storedShardRow(
          jobId,
          aShardProgress({ index: 1, status: 'running', processed: 9, succeeded: 8, failed: 1, bytes: 700 }),
        ),
      ],
    });

    const response = await handler(getJobEvent(jobId), lambdaContext());

    expect(bodyOf(response)).toMatchObject({
      status: 'running',
      counts: { total: null, succeeded: 38, failed: 1 },
      bytes: { read: 3_200, total: 5_000 },
    });
  });

  it('keeps the recorded counts of a job that has ended, and still shows its shards', async () => {
    const job = aJob({ status: 'completed', shardCount: 1, counts: { total: 3, succeeded: 3, failed: 0 } });
    dynamo.on(GetCommand).resolves({ Item: storedJob(job) });
    dynamo.on(QueryCommand).resolves({
      Items: [storedShardRow(jobId, aShardProgress({ index: 0, processed: 2, succeeded: 2 }))],
    });

    const response = await handler(getJobEvent(jobId), lambdaContext());

    expect(bodyOf(response)).toMatchObject({
      counts: { total: 3, succeeded: 3, failed: 0 },
      shards: { total: 1, pending: 0, running: 0, succeeded: 1, failed: 0 },
    });
  });

  it('shows no shard of a failed job as pending or running: those stopped with it', async () => {
    const job = aJob({ status: 'failed', shardCount: 3, counts: { total: 30, succeeded: 10, failed: 0 } });
    dynamo.on(GetCommand).resolves({ Item: storedJob(job) });
    dynamo.on(QueryCommand).resolves({
      Items: [
        storedShardRow(
          jobId,
          aShardProgress({ index: 0, status: 'succeeded', processed: 10, succeeded: 10 }),
        ),
        storedShardRow(jobId, aShardProgress({ index: 1, status: 'running', processed: 3, succeeded: 3 })),
      ],
    });

    const response = await handler(getJobEvent(jobId), lambdaContext());

    expect(bodyOf(response)).toMatchObject({
      counts: { total: 30, succeeded: 10, failed: 0 },
      shards: { total: 3, pending: 0, running: 0, succeeded: 1, failed: 0, stopped: 2 },
    });
  });

  it('reads no shard rows for a job that is not planned yet', async () => {
    dynamo.on(GetCommand).resolves({ Item: storedJob(aJob({ status: 'pending' })) });

    const response = await handler(getJobEvent(jobId), lambdaContext());

    expect(bodyOf(response)).toMatchObject({ status: 'pending', shards: null });
    expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
  });

  it('shows which job a retry-failed job retries', async () => {
    const retry = aJob({ source: 'retry-failed', parentJobId: 'parent-1' });
    dynamo.on(GetCommand).resolves({ Item: storedJob(retry) });

    const response = await handler(getJobEvent(jobId), lambdaContext());

    expect(bodyOf(response)).toMatchObject({ source: 'retry-failed', parentJobId: 'parent-1' });
  });

  it('reads the job with a consistent read', async () => {
    dynamo.on(GetCommand).resolves({ Item: storedJob(aJob()) });

    await handler(getJobEvent(jobId), lambdaContext());

    expect(dynamo).toHaveReceivedCommandWith(GetCommand, { Key: { jobId }, ConsistentRead: true });
  });

  it('shows a failed job with its error', async () => {
    const error = { code: 'INPUT_NOT_FOUND', message: 'The input is gone.' };
    dynamo.on(GetCommand).resolves({ Item: storedJob(aJob({ status: 'failed', error })) });

    const response = await handler(getJobEvent(jobId), lambdaContext());

    expect(bodyOf(response)).toMatchObject({ status: 'failed', error });
  });

  it('answers 404 JOB_NOT_FOUND for a job that does not exist', async () => {
    dynamo.on(GetCommand).resolves({});

    const response = await handler(getJobEvent('no-such-job'), lambdaContext());

    expect(response.statusCode).toBe(404);
    expect(bodyOf<ErrorBody>(response).error).toEqual({
      code: 'JOB_NOT_FOUND',
      message: 'There is no job no-such-job.',
    });
  });

  it("answers 404 for another owner's job, exactly as for a missing one", async () => {
    dynamo.on(GetCommand).resolves({ Item: storedJob(aJob({ ownerId: 'bob' })) });

    const response = await handler(getJobEvent(jobId, { ownerId: 'alice' }), lambdaContext());

    expect(response.statusCode).toBe(404);
    expect(bodyOf<ErrorBody>(response).error).toEqual({
      code: 'JOB_NOT_FOUND',
      message: `There is no job ${jobId}.`,
    });
    expect(response.body).not.toContain('bob');
    expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
  });

  it('answers 401 without an authorizer context and reads nothing', async () => {
    const response = await handler(getJobEvent(jobId, { ownerId: null }), lambdaContext());

    expect(response.statusCode).toBe(401);
    expect(dynamo).not.toHaveReceivedCommand(GetCommand);
    expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
  });
});
