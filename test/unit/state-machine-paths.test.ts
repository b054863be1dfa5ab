import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaFunctionError } from '../../local/lambda-runtime';
import { LocalStepFunctions } from '../../local/stepfunctions';
import type { ExecutionRecord, TaskHandler } from '../../local/stepfunctions';
import { resolvedDefinition } from '../support/state-machine';

type Calls = Record<string, unknown[]>;

const lambdaName = (resource: string) => /longtail-test-(\w+)LambdaFunction$/.exec(resource)?.[1] ?? resource;

const planUri = 's3://o/work/job-1/plan.json';
const planOf = (shardCount: number) => async () => ({ shardCount, planUri });

/** Runs the real ASL with stand-in tasks and reports which ran, with what input, and how it ended. */
const runWith = async (overrides: Record<string, TaskHandler>) => {
  const dir = mkdtempSync(join(tmpdir(), 'longtail-sfn-'));
  const sfn = new LocalStepFunctions('us-east-1', '123456789012', join(dir, 'executions.json'));
  const calls: Calls = {};
  const defaults: Record<string, TaskHandler> = {
    MarkJobRunning: async (input) => ({ jobId: (input as { jobId: string }).jobId }),
    PlanShards: planOf(1),
    'batch:submitJob.sync': async () => ({ JobId: 'batch-1', Status: 'SUCCEEDED', Attempts: [] }),
    CompleteJob: async (input) => ({
      type: 'job.completed',
      jobId: (input as { jobId: string }).jobId,
      model: 'churn-risk',
    }),
    MarkJobFailed: async (input) => ({
      type: 'job.failed',
      jobId: (input as { jobId: string }).jobId,
      model: 'churn-risk',
    }),
    'sns:publish': async () => ({ MessageId: 'm-1' }),
  };
  const arn = sfn.registerStateMachine('paths', resolvedDefinition() as never, (resource) => {
    const name = resource.startsWith('arn:aws:states:::')
      ? resource.replace('arn:aws:states:::', '')
      : lambdaName(resource);
    const handler = overrides[name] ?? defaults[name];
    return async (input) => {
      (calls[name] ??= []).push(input);
      return handler!(input);
    };
  });
  const started = sfn.startExecution(arn, 'job-1', JSON.stringify({ jobId: 'job-1' }));
  await sfn.settle();
  const execution: ExecutionRecord = sfn.describeExecution(started.executionArn);
  rmSync(dir, { recursive: true, force: true });
  return { calls, execution };
};

const workerEnvironment = [
  { Name: 'LONGTAIL_JOB_ID', Value: 'job-1' },
  { Name: 'LONGTAIL_PLAN_URI', Value: planUri },
];

describe('the inference-job state machine’s paths', () => {
  it('marks the job running, plans it, runs its one shard as a single Batch job, completes the job and announces it', async () => {
    const { calls, execution } = await runWith({});

    expect(execution.status).toBe('SUCCEEDED');
    expect(calls.MarkJobRunning).toEqual([{ jobId: 'job-1', executionArn: execution.executionArn }]);
    expect(calls.PlanShards).toEqual([{ jobId: 'job-1' }]);
    expect(calls['batch:submitJob.sync']).toHaveLength(1);
    const submitted = calls['batch:submitJob.sync']?.[0] as Record<string, unknown>;
    expect(submitted).toMatchObject({
      JobName: 'longtail-job-1',
      Parameters: { jobId: 'job-1' },
      ContainerOverrides: { Environment: workerEnvironment },
    });
    expect(submitted).not.toHaveProperty('ArrayProperties');
    expect(calls.CompleteJob).toEqual([{ jobId: 'job-1' }]);
    expect(calls['sns:publish']).toEqual([
      expect.objectContaining({
        Message: { type: 'job.completed', jobId: 'job-1', model: 'churn-risk' },
        MessageAttributes: expect.objectContaining({
          type: { DataType: 'String', StringValue: 'job.completed' },
        }),
      }),
    ]);
    expect(calls.MarkJobFailed).toBeUndefined();
  });

  it('runs several shards as one AWS Batch array job of that many children', async () => {
    const { calls, execution } = await runWith({ PlanShards: planOf(7) });

    expect(execution.status).toBe('SUCCEEDED');
    expect(calls['batch:submitJob.sync']).toEqual([
      expect.objectContaining({
        JobName: 'longtail-job-1',
        ArrayProperties: { Size: 7 },
        ContainerOverrides: { Environment: workerEnvironment },
      }),
    ]);
    expect(calls.CompleteJob).toEqual([{ jobId: 'job-1' }]);
  });

  it('marks the job failed with the planning error when the job cannot run, and runs nothing on Batch', async () => {
    const cannotRun = new LambdaFunctionError('JobCannotRun', 'The input s3://i/x does not exist.');
    const { calls, execution } = await runWith({ PlanShards: async () => Promise.reject(cannotRun) });

    expect(calls['batch:submitJob.sync']).toBeUndefined();
    expect(calls.MarkJobFailed).toEqual([
      { jobId: 'job-1', error: { Error: 'JobCannotRun', Cause: cannotRun.message } },
    ]);
    expect(calls['sns:publish']?.[0]).toMatchObject({ Message: { type: 'job.failed' } });
    expect(execution).toMatchObject({ status: 'FAILED', error: 'JobFailed' });
  });

  it('marks the job failed and announces it when the Batch job fails', async () => {
    const batchFailure = Object.assign(
      new Error(JSON.stringify({ Status: 'FAILED', StatusReason: 'Essential container in task exited' })),
      {
        name: 'States.TaskFailed',
      },
    );
    const { calls, execution } = await runWith({
      'batch:submitJob.sync': async () => Promise.reject(batchFailure),
    });

    expect(calls.MarkJobFailed).toEqual([
      { jobId: 'job-1', error: { Error: 'States.TaskFailed', Cause: batchFailure.message } },
    ]);
    expect(calls.CompleteJob).toBeUndefined();
    expect(calls['sns:publish']?.[0]).toMatchObject({ Message: { type: 'job.failed' } });
    expect(execution).toMatchObject({ status: 'FAILED', error: 'JobFailed' });
  });

  it('marks the job failed when a child of the array job fails', async () => {
    const arrayFailure = Object.assign(
      new Error(JSON.stringify({ Status: 'FAILED', StatusReason: '1 of 3 child jobs failed' })),
      { name: 'States.TaskFailed' },
    );
    const { calls } = await runWith({
      PlanShards: planOf(3),
      'batch:submitJob.sync': async () => Promise.reject(arrayFailure),
    });

    expect(calls.MarkJobFailed).toEqual([
      { jobId: 'job-1', error: { Error: 'States.TaskFailed', Cause: arrayFailure.message } },
    ]);
    expect(calls.CompleteJob).toBeUndefined();
  });

  it('marks the job failed with the typed error when every record failed', async () => {
    const { calls } = await runWith({
      CompleteJob: async () =>
        Promise.reject(new LambdaFunctionError('AllRecordsFailed', 'All 2 records failed')),
    });

    expect(calls.MarkJobFailed?.[0]).toMatchObject({ error: { Error: 'AllRecordsFailed' } });
  });

  it('marks the job failed with the typed error when too many records failed', async () => {
    const { calls } = await runWith({
      CompleteJob: async () =>
        Promise.reject(new LambdaFunctionError('TooManyFailedRecords', '3 of 4 records failed')),
    });

    expect(calls.MarkJobFailed?.[0]).toMatchObject({ error: { Error: 'TooManyFailedRecords' } });
  });

  it('retries a transient Lambda error instead of failing the job', async () => {
    let attempts = 0;
    const { calls, execution } = await runWith({
      MarkJobRunning: async (input) => {
        attempts++;
        if (attempts === 1) throw new LambdaFunctionError('Lambda.ServiceException', 'try again');
        return { jobId: (input as { jobId: string }).jobId };
      },
    });

    expect(attempts).toBe(2);
    expect(calls.MarkJobFailed).toBeUndefined();
    expect(execution.status).toBe('SUCCEEDED');
  }, 15_000);

  it('retries a transient error of planning too', async () => {
    let attempts = 0;
    const { calls, execution } = await runWith({
      PlanShards: async () => {
        attempts++;
        if (attempts === 1) throw new LambdaFunctionError('Lambda.TooManyRequestsException', 'slow down');
        return { shardCount: 2, planUri };
      },
    });

    expect(attempts).toBe(2);
    expect(calls.MarkJobFailed).toBeUndefined();
    expect(execution.status).toBe('SUCCEEDED');
  }, 15_000);

  it('does not mark a completed job failed when only its announcement fails', async () => {
    const { calls, execution } = await runWith({
      'sns:publish': async () =>
        Promise.reject(Object.assign(new Error('no topic'), { name: 'SNS.NotFoundException' })),
    });

    expect(calls.MarkJobFailed).toBeUndefined();
    expect(execution).toMatchObject({ status: 'FAILED', error: 'EventNotPublished' });
  });
});
