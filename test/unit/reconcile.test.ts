import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/reconcile';
import type { Job, JobStatus } from '../../lib/domain/job';
import { SnsJobEventPublisher } from '../../lib/aws/sns';
import { DynamoJobStore } from '../../lib/aws/dynamodb/job-store';
import { reconcileEndedExecution } from '../../lib/use-cases/reconcile';
import { assignmentsOf, fromStatusesOf } from '../fixtures/dynamo-updates';
import { setHandlerEnv, testResources } from '../fixtures/env';
import { executionStatusChange } from '../fixtures/eventbridge-events';
import type { ExecutionStatusChange } from '../fixtures/eventbridge-events';
import { aJob, executionArn, jobId, storedJob } from '../fixtures/jobs';
import { lambdaContext } from '../fixtures/lambda-context';

const dynamo = mockClient(DynamoDBDocumentClient);
const sns = mockClient(SNSClient);

const running = aJob({ status: 'running', executionArn, startedAt: '2025-01-01T00:01:00.000Z' });

/** The table holds `job`; an update returns it with the update's assignments applied. */
const givenStoredJob = (job: Job) => {
  dynamo.on(GetCommand).resolves({ Item: storedJob(job) });
  dynamo.on(UpdateCommand).callsFake((input: UpdateCommandInput) => ({
    Attributes: storedJob({ ...job, ...assignmentsOf(input) }),
  }));
};

const reconcile = (event: ExecutionStatusChange<'FAILED' | 'TIMED_OUT' | 'ABORTED'>) =>
  handler(event, lambdaContext('longtail-test-reconcile'));

const lastUpdate = () => dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
const publishedEvents = () =>
  sns.commandCalls(PublishCommand).map((call) => JSON.parse(call.args[0].input.Message ?? '') as unknown);

describe('reconcile handler', () => {
  beforeEach(() => {
    setHandlerEnv();
    dynamo.reset();
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
    givenStoredJob(running);
  });

  it('cancels a running job whose execution was aborted and publishes job.cancelled', async () => {
    await reconcile(executionStatusChange('ABORTED'));

    expect(dynamo).toHaveReceivedCommandWith(GetCommand, { Key: { jobId } });
    expect(fromStatusesOf(lastUpdate())).toEqual(['pending', 'running']);
    expect(assignmentsOf(lastUpdate())).toEqual({
      status: 'cancelled',
      ownerStatus: 'alice#cancelled',
      completedAt: expect.any(String),
    });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: testResources.jobEventsTopicArn,
      MessageAttributes: {
        type: { DataType: 'String', StringValue: 'job.cancelled' },
        model: { DataType: 'String', StringValue: 'churn-risk' },
      },
    });
    expect(publishedEvents()).toEqual([
      expect.objectContaining({
        type: 'job.cancelled',
        jobId,
        ownerId: 'alice',
        status: 'cancelled',
        model: 'churn-risk',
        error: null,
        executionArn,
        completedAt: expect.any(String),
      }),
    ]);
  });

  it("fails a running job whose execution failed, with EXECUTION_FAILED naming the execution's error and cause", async () => {
    const event = executionStatusChange('FAILED', {
      error: 'States.Runtime',
      cause: "An error occurred while executing the state 'Mark job failed'.",
    });

    await reconcile(event);

    expect(assignmentsOf(lastUpdate())).toMatchObject({ status: 'failed', ownerStatus: 'alice#failed' });
    const error = assignmentsOf(lastUpdate()).error as { code: string; message: string };
    expect(error.code).toBe('EXECUTION_FAILED');
    expect(error.message).toContain('States.Runtime');
    expect(error.message).toContain("An error occurred while executing the state 'Mark job failed'.");
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      MessageAttributes: {
        type: { DataType: 'String', StringValue: 'job.failed' },
        model: { DataType: 'String', StringValue: 'churn-risk' },
      },
    });
    expect(publishedEvents()).toEqual([
      expect.objectContaining({ type: 'job.failed', status: 'failed', error }),
    ]);
  });

  it('fails a running job whose execution timed out with TIMED_OUT', async () => {
    await reconcile(executionStatusChange('TIMED_OUT'));

    expect(assignmentsOf(lastUpdate())).toMatchObject({
      status: 'failed',
      error: { code: 'TIMED_OUT', message: expect.any(String) },
    });
    expect(publishedEvents()).toEqual([
      expect.objectContaining({ type: 'job.failed', error: expect.objectContaining({ code: 'TIMED_OUT' }) }),
    ]);
  });

  it('fails a job that never left pending when its execution failed', async () => {
    givenStoredJob(aJob({ status: 'pending' }));

    await reconcile(executionStatusChange('FAILED', { error: 'States.Runtime', cause: 'boom' }));

    expect(assignmentsOf(lastUpdate())).toMatchObject({
      status: 'failed',
      error: { code: 'EXECUTION_FAILED' },
    });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it.each<[JobStatus, 'FAILED' | 'TIMED_OUT' | 'ABORTED']>([
    ['completed', 'FAILED'],
    ['completed', 'ABORTED'],
    ['failed', 'FAILED'],
    ['failed', 'TIMED_OUT'],
  ])(
    'leaves a job that already ended as %s alone when its execution ends %s',
    async (status, executionStatus) => {
      givenStoredJob(aJob({ ...running, status, completedAt: '2025-01-01T00:05:00.000Z' }));

      await reconcile(executionStatusChange(executionStatus));

      expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
      expect(sns).not.toHaveReceivedCommand(PublishCommand);
    },
  );

  it.each([
    ['cancelled', 'ABORTED', undefined],
    ['failed', 'FAILED', { code: 'EXECUTION_FAILED', message: 'The job’s execution failed.' }],
  ] as const)(
    'announces again, without writing, a job it already ended as %s when the %s event comes again',
    async (status, executionStatus, error) => {
      givenStoredJob(
        aJob({ ...running, status, completedAt: '2025-01-01T00:05:00.000Z', ...(error ? { error } : {}) }),
      );

      await reconcile(executionStatusChange(executionStatus));

      expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
      expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
      expect(JSON.parse(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '{}')).toMatchObject({
        type: `job.${status}`,
        jobId: running.jobId,
      });
    },
  );

  it('does nothing for an execution that names no job', async () => {
    dynamo.on(GetCommand).resolves({});

    await reconcile(executionStatusChange('ABORTED', { name: 'not-a-job' }));

    expect(dynamo).toHaveReceivedCommandWith(GetCommand, { Key: { jobId: 'not-a-job' } });
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('publishes nothing and does not throw when another writer ends the job first', async () => {
    const completed = aJob({ ...running, status: 'completed', completedAt: '2025-01-01T00:09:59.000Z' });
    dynamo
      .on(GetCommand)
      .resolvesOnce({ Item: storedJob(running) })
      .resolves({ Item: storedJob(completed) });
    dynamo
      .on(UpdateCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );

    await expect(reconcile(executionStatusChange('FAILED'))).resolves.toBeUndefined();

    expect(dynamo).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('lets a storage error through so that the event is retried', async () => {
    dynamo.on(UpdateCommand).rejects(new Error('ProvisionedThroughputExceededException'));

    await expect(reconcile(executionStatusChange('ABORTED'))).rejects.toThrow(
      'ProvisionedThroughputExceededException',
    );
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });
});

describe('reconcileEndedExecution', () => {
  const deps = {
    store: new DynamoJobStore(),
    events: new SnsJobEventPublisher(),
    now: () => new Date('2025-01-01T00:10:00.000Z'),
  };

  beforeEach(() => {
    setHandlerEnv();
    dynamo.reset();
    sns.reset();
    givenStoredJob(running);
  });

  it('stamps the end with the time of reconciling and returns the event it published', async () => {
    const ended = await reconcileEndedExecution(executionStatusChange('ABORTED').detail, deps);

    expect(assignmentsOf(lastUpdate()).completedAt).toBe('2025-01-01T00:10:00.000Z');
    expect(ended).toEqual({
      type: 'job.cancelled',
      jobId,
      ownerId: 'alice',
      status: 'cancelled',
      model: 'churn-risk',
      modelVersion: '1',
      modelChecksum: null,
      outputUri: running.outputUri,
      failureUri: running.failureUri,
      counts: running.counts,
      error: null,
      startedAt: '2025-01-01T00:01:00.000Z',
      completedAt: '2025-01-01T00:10:00.000Z',
      executionArn,
    });
    expect(publishedEvents()).toEqual([ended]);
  });

  it('returns nothing for a job that already ended', async () => {
    givenStoredJob(aJob({ ...running, status: 'failed' }));

    const ended = await reconcileEndedExecution(executionStatusChange('TIMED_OUT').detail, deps);

    expect(ended).toBeUndefined();
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
  });
});
