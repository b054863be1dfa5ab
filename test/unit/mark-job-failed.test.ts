import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/mark-job-failed';
import type { CaughtError } from '../../lib/domain/job-failure';
import { assignmentsOf, fromStatusesOf } from '../fixtures/dynamo-updates';
import { setHandlerEnv, testResources } from '../fixtures/env';
import {
  aJob,
  aShardProgress,
  executionArn,
  failedReport,
  jobId,
  jsonObjectBody,
  storedJob,
  storedShardRow,
} from '../fixtures/jobs';
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

const markJobFailed = (error: CaughtError = batchFailure) =>
  handler({ jobId, error }, lambdaContext('longtail-test-markJobFailed'));

const noReport = () => new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });

describe('mark-job-failed handler', () => {
  beforeEach(() => {
    setHandlerEnv();
    dynamo.reset();
    s3.reset();
    dynamo.on(GetCommand).resolves({ Item: storedJob(running) });
    dynamo.on(UpdateCommand).callsFake((input: UpdateCommandInput) => ({
      Attributes: storedJob({ ...running, ...assignmentsOf(input) }),
    }));
    s3.on(GetObjectCommand).rejects(noReport());
    dynamo.on(QueryCommand).resolves({ Items: [] });
  });

  it('marks the job failed with the planning report’s error when the job could not run', async () => {
    const report = failedReport('INPUT_NOT_FOUND', 'The input s3://inputs/missing.csv does not exist.');
    s3.on(GetObjectCommand, {
      Bucket: testResources.outputsBucket,
      Key: `work/${jobId}/report.json`,
    }).resolves({
      Body: jsonObjectBody(report),
    });
    const cannotRun = {
      Error: 'JobCannotRun',
      Cause: JSON.stringify({ errorType: 'JobCannotRun', errorMessage: report.error.message }),
    };

    const event = await markJobFailed(cannotRun);

    const update = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(fromStatusesOf(update)).toEqual(['pending', 'running']);
    expect(assignmentsOf(update)).toMatchObject({
      status: 'failed',
      ownerStatus: 'alice#failed',
      error: report.error,
      completedAt: expect.any(String),
    });
    expect(assignmentsOf(update)).not.toHaveProperty('counts');
    expect(event).toMatchObject({ type: 'job.failed', jobId, status: 'failed', error: report.error });
  });

  it("marks the job failed with a failed shard's own error, and the counts its shards reached", async () => {
    const shardError = { code: 'TOO_MANY_FAILED_RECORDS', message: '60 of 100 records failed in shard 1.' };
    dynamo
      .on(GetCommand)
      .resolves({ Item: storedJob({ ...running, counts: { total: 250, succeeded: 0, failed: 0 } }) });
    dynamo.on(QueryCommand).resolves({
      Items: [
        storedShardRow(
          jobId,
          aShardProgress({ index: 0, status: 'succeeded', processed: 150, succeeded: 150 }),
        ),
        storedShardRow(
          jobId,
          aShardProgress({
            index: 1,
            status: 'failed',
            processed: 100,
            succeeded: 40,
            failed: 60,
            error: shardError,
          }),
        ),
      ],
    });

    const event = await markJobFailed();

    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, { IndexName: 'byShardOf' });
    expect(assignmentsOf(dynamo.commandCalls(UpdateCommand)[0]?.args[0].input)).toMatchObject({
      status: 'failed',
      error: shardError,
      counts: { total: 250, succeeded: 190, failed: 60 },
    });
    expect(event.error).toEqual(shardError);
  });

  it("records the failure when the shards' rows cannot be read", async () => {
    dynamo.on(QueryCommand).rejects(new Error('AccessDeniedException'));

    const event = await markJobFailed();

    expect(event).toMatchObject({ status: 'failed', error: { code: 'WORKER_FAILED' } });
  });

  it("describes Batch's failure when the worker left no report", async () => {
    const event = await markJobFailed();

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

    const event = await markJobFailed(caught);

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

    const event = await markJobFailed();

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

    const event = await markJobFailed({ Error: 'States.Timeout' });

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

    const event = await markJobFailed();

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

    await expect(markJobFailed()).rejects.toThrow('ProvisionedThroughputExceededException');
  });
});
