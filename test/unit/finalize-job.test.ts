import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/finalize-job';
import { assignmentsOf, fromStatusesOf } from '../fixtures/dynamo-updates';
import { setHandlerEnv, testResources } from '../fixtures/env';
import { aJob, executionArn, jobId, jsonObjectBody, storedJob, succeededReport } from '../fixtures/jobs';
import { lambdaContext } from '../fixtures/lambda-context';

const dynamo = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);

const reportKey = { Bucket: testResources.outputsBucket, Key: `work/${jobId}/report.json` };

const finalize = () => handler({ jobId }, lambdaContext('longtail-test-finalizeJob'));

const running = aJob({ status: 'running', executionArn, startedAt: '2025-01-01T00:01:00.000Z' });

describe('finalize-job handler', () => {
  beforeEach(() => {
    setHandlerEnv();
    dynamo.reset();
    s3.reset();
    dynamo.on(GetCommand).resolves({ Item: storedJob(running) });
    dynamo.on(UpdateCommand).callsFake((input: UpdateCommandInput) => ({
      Attributes: storedJob({ ...running, ...assignmentsOf(input) }),
    }));
  });

  it("completes the running job with the counts from the worker's report", async () => {
    const counts = { total: 3, succeeded: 2, failed: 1 };
    s3.on(GetObjectCommand, reportKey).resolves({ Body: jsonObjectBody(succeededReport(counts)) });

    const event = await finalize();

    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, reportKey);
    const update = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(fromStatusesOf(update)).toEqual(['running']);
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
      outputUri: running.outputUri,
      failureUri: running.failureUri,
      counts,
      error: null,
      startedAt: running.startedAt,
      completedAt: expect.any(String),
      executionArn,
    });
  });

  it('throws AllRecordsFailed, naming the failure file, when no record succeeded', async () => {
    s3.on(GetObjectCommand).resolves({
      Body: jsonObjectBody(succeededReport({ total: 3, succeeded: 0, failed: 3 })),
    });

    const finalizing = finalize();

    await expect(finalizing).rejects.toMatchObject({
      name: 'AllRecordsFailed',
      message: `All 3 records failed; see ${running.failureUri}.`,
    });
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('fails when the worker left no report', async () => {
    s3.on(GetObjectCommand).rejects(
      new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }),
    );

    await expect(finalize()).rejects.toThrow(`Job ${jobId}: the worker left no success report`);
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('fails when the report says the worker failed', async () => {
    const report = { status: 'failed', error: { code: 'INFERENCE_FAILED', message: 'bad tensor' } };
    s3.on(GetObjectCommand).resolves({ Body: jsonObjectBody(report) });

    await expect(finalize()).rejects.toThrow('the worker left no success report');
  });

  it('returns the completed job as is when a duplicate run finds it already completed', async () => {
    const counts = { total: 3, succeeded: 3, failed: 0 };
    const completed = aJob({
      ...running,
      status: 'completed',
      counts,
      completedAt: '2025-01-01T00:05:00.000Z',
    });
    s3.on(GetObjectCommand).resolves({ Body: jsonObjectBody(succeededReport(counts)) });
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
    s3.on(GetObjectCommand).resolves({
      Body: jsonObjectBody(succeededReport({ total: 1, succeeded: 1, failed: 0 })),
    });
    dynamo.on(GetCommand).resolves({ Item: storedJob(aJob({ ...running, status: 'cancelled' })) });
    dynamo
      .on(UpdateCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );

    await expect(finalize()).rejects.toMatchObject({ name: 'TransitionRejected' });
  });
});
