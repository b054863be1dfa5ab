import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/get-job';
import { setHandlerEnv, testResources } from '../fixtures/env';
import { bodyOf, getJobEvent } from '../fixtures/http-events';
import type { ErrorBody } from '../fixtures/http-events';
import { aJob, executionArn, jobId, storedJob } from '../fixtures/jobs';
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
      input: { type: 'records', recordCount: 3 },
      outputUri: job.outputUri,
      failureUri: job.failureUri,
      counts: { total: 3, succeeded: 2, failed: 1 },
      createdAt: '2025-01-01T00:00:00.000Z',
      startedAt: '2025-01-01T00:01:00.000Z',
      completedAt: '2025-01-01T00:05:00.000Z',
      error: null,
      executionArn,
      consoleUrl: `https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${executionArn}`,
      webhookUrl: null,
      statusUrl: `${testResources.publicApiUrl}/jobs/${jobId}`,
    });
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
  });

  it('answers 401 without an authorizer context and reads nothing', async () => {
    const response = await handler(getJobEvent(jobId, { ownerId: null }), lambdaContext());

    expect(response.statusCode).toBe(401);
    expect(dynamo).not.toHaveReceivedCommand(GetCommand);
  });
});
