import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/mark-job-running';
import { assignmentsOf, fromStatusesOf } from '../fixtures/dynamo-updates';
import { setHandlerEnv, testResources } from '../fixtures/env';
import { aJob, executionArn, jobId, storedJob } from '../fixtures/jobs';
import { lambdaContext } from '../fixtures/lambda-context';

const dynamo = mockClient(DynamoDBDocumentClient);

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const prepare = (arn = executionArn) =>
  handler({ jobId, executionArn: arn }, lambdaContext('longtail-test-markJobRunning'));

describe('mark-job-running handler', () => {
  beforeEach(() => {
    setHandlerEnv();
    dynamo.reset();
  });

  it('moves a pending job to running, recording the execution, and passes on only the job id', async () => {
    const pending = aJob({ status: 'pending' });
    dynamo.on(GetCommand).resolves({ Item: storedJob(pending) });
    dynamo.on(UpdateCommand).callsFake((input: UpdateCommandInput) => ({
      Attributes: storedJob({ ...pending, ...assignmentsOf(input), status: 'running' }),
    }));

    const result = await prepare();

    expect(result).toEqual({ jobId });
    const update = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update?.TableName).toBe(testResources.jobsTable);
    expect(update?.Key).toEqual({ jobId });
    expect(update?.ConditionExpression).toBe('#status IN (:from0)');
    expect(fromStatusesOf(update)).toEqual(['pending']);
    const assigned = assignmentsOf(update);
    expect(assigned).toMatchObject({ status: 'running', ownerStatus: 'alice#running', executionArn });
    expect(Date.parse(String(assigned.startedAt))).not.toBeNaN();
  });

  it('lets a retry by the same execution through, as if it had moved the job itself', async () => {
    const running = aJob({ status: 'running', executionArn, startedAt: '2025-01-01T00:01:00.000Z' });
    dynamo.on(GetCommand).resolves({ Item: storedJob(running) });
    dynamo.on(UpdateCommand).rejects(conditionFailed());

    const result = await prepare();

    expect(result).toEqual({ jobId });
    expect(dynamo).toHaveReceivedCommandTimes(UpdateCommand, 1);
  });

  it('refuses a job that another execution is already running', async () => {
    const running = aJob({ status: 'running', executionArn: `${executionArn}-other` });
    dynamo.on(GetCommand).resolves({ Item: storedJob(running) });
    dynamo.on(UpdateCommand).rejects(conditionFailed());

    await expect(prepare()).rejects.toMatchObject({ name: 'JobNotRunnable', code: 'JOB_NOT_RUNNABLE' });
  });

  it('refuses a job that was cancelled before it started', async () => {
    dynamo.on(GetCommand).resolves({ Item: storedJob(aJob({ status: 'cancelled' })) });
    dynamo.on(UpdateCommand).rejects(conditionFailed());

    await expect(prepare()).rejects.toMatchObject({
      name: 'JobNotRunnable',
      message: `Job ${jobId} is cancelled; it will not run.`,
    });
  });

  it('refuses a job that does not exist', async () => {
    dynamo.on(GetCommand).resolves({});

    await expect(prepare()).rejects.toMatchObject({
      name: 'JobNotRunnable',
      message: `Job ${jobId} is gone; it will not run.`,
    });
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
  });
});
