import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/record-failure';
import type { CaughtError } from '../../lib/jobs/run-steps';
import { assignmentsOf, fromStatusesOf } from '../fixtures/dynamo-updates';
import { setHandlerEnv, testResources } from '../fixtures/env';
import { aJob, executionArn, jobId, jsonObjectBody, storedJob } from '../fixtures/jobs';
import { lambdaContext } from '../fixtures/lambda-context';

const dynamo = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);

const running = aJob({ status: 'running', executionArn, startedAt: '2025-01-01T00:01:00.000Z' });

const batchFailure: CaughtError = {
  Error: 'States.TaskFailed',
  Cause: JSON.stringify({
    StatusReason: 'Essential container in task exited',
    Attempts: [{ Container: { ExitCode: 1 } }],
  }),
};

const recordFailure = (error: CaughtError = batchFailure) =>
  handler({ jobId, error }, lambdaContext('longtail-test-recordFailure'));

const noReport = () => new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });

describe('record-failure handler', () => {
  beforeEach(() => {
    setHandlerEnv();
    dynamo.reset();
    s3.reset();
    dynamo.on(GetCommand).resolves({ Item: storedJob(running) });
    dynamo.on(UpdateCommand).callsFake((input: UpdateCommandInput) => ({
      Attributes: storedJob({ ...running, ...assignmentsOf(input) }),
    }));
    s3.on(GetObjectCommand).rejects(noReport());
  });

  it("marks the job failed with the worker report's error and counts", async () => {
    const report = {
      status: 'failed',
      error: { code: 'INPUT_NOT_FOUND', message: 's3://inputs/missing.csv does not exist' },
      counts: { total: 0, succeeded: 0, failed: 0 },
    };
    s3.on(GetObjectCommand, {
      Bucket: testResources.outputsBucket,
      Key: `work/${jobId}/report.json`,
    }).resolves({
      Body: jsonObjectBody(report),
    });

    const event = await recordFailure();

    const update = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(fromStatusesOf(update)).toEqual(['pending', 'running']);
    expect(assignmentsOf(update)).toMatchObject({
      status: 'failed',
      ownerStatus: 'alice#failed',
      error: report.error,
      counts: report.counts,
      completedAt: expect.any(String),
    });
    expect(event).toMatchObject({ type: 'job.failed', jobId, status: 'failed', error: report.error });
  });

  it("describes Batch's failure when the worker left no report", async () => {
    const event = await recordFailure();

    const update = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    const expected = {
      code: 'WORKER_FAILED',
      message: 'The worker failed: Essential container in task exited (exit code 1).',
    };
    expect(assignmentsOf(update).error).toEqual(expected);
    expect(assignmentsOf(update)).not.toHaveProperty('counts');
    expect(event.error).toEqual(expected);
  });

  it('records a job whose every record failed as ALL_RECORDS_FAILED', async () => {
    const caught = {
      Error: 'AllRecordsFailed',
      Cause: JSON.stringify({
        errorType: 'AllRecordsFailed',
        errorMessage: 'All 3 records failed; see the failure file.',
      }),
    };

    const event = await recordFailure(caught);

    expect(event.error).toEqual({
      code: 'ALL_RECORDS_FAILED',
      message: 'All 3 records failed; see the failure file.',
    });
  });

  it('marks the job failed when S3 answers 403 for the missing report, as it does without s3:ListBucket', async () => {
    s3.on(GetObjectCommand).rejects(
      new S3ServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'Access Denied',
      }),
    );

    const event = await recordFailure();

    expect(event).toMatchObject({
      status: 'failed',
      error: {
        code: 'WORKER_FAILED',
        message: 'The worker failed: Essential container in task exited (exit code 1).',
      },
    });
    expect(assignmentsOf(dynamo.commandCalls(UpdateCommand)[0]?.args[0].input)).toMatchObject({
      status: 'failed',
    });
  });

  it('can fail a job that never left pending', async () => {
    const pending = aJob({ status: 'pending' });
    dynamo.on(GetCommand).resolves({ Item: storedJob(pending) });
    dynamo.on(UpdateCommand).callsFake((input: UpdateCommandInput) => ({
      Attributes: storedJob({ ...pending, ...assignmentsOf(input) }),
    }));

    const event = await recordFailure({ Error: 'States.Timeout' });

    expect(event).toMatchObject({ status: 'failed', error: { code: 'TIMED_OUT' } });
  });

  it('leaves a job that already completed as it is and reports it as completed', async () => {
    const completed = aJob({
      ...running,
      status: 'completed',
      counts: { total: 2, succeeded: 2, failed: 0 },
      completedAt: '2025-01-01T00:05:00.000Z',
    });
    dynamo.on(GetCommand).resolves({ Item: storedJob(completed) });
    dynamo
      .on(UpdateCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );

    const event = await recordFailure();

    expect(fromStatusesOf(dynamo.commandCalls(UpdateCommand)[0]?.args[0].input)).not.toContain('completed');
    expect(event).toMatchObject({
      type: 'job.completed',
      status: 'completed',
      error: null,
      counts: { total: 2, succeeded: 2, failed: 0 },
      completedAt: '2025-01-01T00:05:00.000Z',
    });
  });

  it('lets a storage error through so that the state machine retries', async () => {
    dynamo.on(UpdateCommand).rejects(new Error('ProvisionedThroughputExceededException'));

    await expect(recordFailure()).rejects.toThrow('ProvisionedThroughputExceededException');
  });
});
