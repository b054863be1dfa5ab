import {
  BatchClient,
  DescribeJobsCommand,
  ListJobsCommand,
  TerminateJobCommand,
} from '@aws-sdk/client-batch';
import type { JobStatus, JobSummary, ListJobsCommandInput } from '@aws-sdk/client-batch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/monitor-batch-queue';
import { failStuckRunnableJobs, oldestRunnableAgeSeconds, stuckRunnableReason } from '../../lib/aws/batch';
import { setHandlerEnv } from '../fixtures/env';
import { lambdaContext } from '../fixtures/lambda-context';

const batch = mockClient(BatchClient);

const jobQueue = 'arn:aws:batch:us-east-1:123456789012:job-queue/longtail-test-gpu';
const now = Date.parse('2025-01-01T01:00:00.000Z');

/** A RUNNABLE job created `secondsAgo` before `now`. */
const waiting = (name: string, secondsAgo?: number): JobSummary => ({
  jobId: `id-${name}`,
  jobName: name,
  status: 'RUNNABLE',
  ...(secondsAgo === undefined ? {} : { createdAt: now - secondsAgo * 1000 }),
});

/** ListJobs answers with `pages`, one per nextToken: `page-2`, `page-3`, ... */
const givenPages = (...pages: JobSummary[][]) => {
  batch.on(ListJobsCommand).callsFake((input: ListJobsCommandInput) => {
    const index = input.nextToken === undefined ? 0 : Number(input.nextToken.replace('page-', '')) - 1;
    return {
      jobSummaryList: pages[index],
      nextToken: index + 1 < pages.length ? `page-${index + 2}` : undefined,
    };
  });
};

describe('oldestRunnableAgeSeconds', () => {
  beforeEach(() => {
    batch.reset();
  });

  it('returns how long the oldest RUNNABLE job has waited, reading every page', async () => {
    givenPages([waiting('a', 60), waiting('b', 120)], [waiting('c', 30)], [waiting('d', 1800)]);

    const age = await oldestRunnableAgeSeconds(new BatchClient({}), jobQueue, now);

    expect(age).toBe(1800);
    expect(batch).toHaveReceivedCommandTimes(ListJobsCommand, 3);
    expect(batch.commandCalls(ListJobsCommand).map((call) => call.args[0].input)).toEqual([
      { jobQueue, jobStatus: 'RUNNABLE', nextToken: undefined },
      { jobQueue, jobStatus: 'RUNNABLE', nextToken: 'page-2' },
      { jobQueue, jobStatus: 'RUNNABLE', nextToken: 'page-3' },
    ]);
  });

  it('returns 0 when no job is RUNNABLE', async () => {
    givenPages([]);

    const age = await oldestRunnableAgeSeconds(new BatchClient({}), jobQueue, now);

    expect(age).toBe(0);
    expect(batch).toHaveReceivedCommandWith(ListJobsCommand, { jobQueue, jobStatus: 'RUNNABLE' });
  });

  it('returns 0 when Batch answers without a job list', async () => {
    batch.on(ListJobsCommand).resolves({});

    await expect(oldestRunnableAgeSeconds(new BatchClient({}), jobQueue, now)).resolves.toBe(0);
  });

  it('rounds to whole seconds', async () => {
    givenPages([{ ...waiting('a'), createdAt: now - 89_600 }]);

    await expect(oldestRunnableAgeSeconds(new BatchClient({}), jobQueue, now)).resolves.toBe(90);
  });

  it('ignores jobs with no creation time and never answers a negative age', async () => {
    givenPages([waiting('no-date'), { ...waiting('from-the-future'), createdAt: now + 5000 }]);

    await expect(oldestRunnableAgeSeconds(new BatchClient({}), jobQueue, now)).resolves.toBe(0);
  });
});

/** ListJobs answers each status with its own jobs (one page). */
const givenQueue = (byStatus: Partial<Record<JobStatus, JobSummary[]>>) => {
  batch.on(ListJobsCommand).callsFake((input: ListJobsCommandInput) => ({
    jobSummaryList: byStatus[input.jobStatus as JobStatus] ?? [],
  }));
};

/** DescribeJobs answers for the array job `array` (4 children) with its children's statuses. */
const givenArrayParent = (statusSummary: Record<string, number>) => {
  batch.on(DescribeJobsCommand).resolves({
    jobs: [
      {
        jobId: 'array',
        jobName: 'longtail-j',
        jobQueue,
        jobDefinition: 'longtail-worker',
        status: 'PENDING',
        startedAt: undefined,
        arrayProperties: { size: 4, statusSummary },
      },
    ],
  });
};

const hour = 3600;

describe('failStuckRunnableJobs', () => {
  beforeEach(() => {
    batch.reset();
    batch.on(TerminateJobCommand).resolves({});
  });

  it('fails the jobs RUNNABLE longer than the limit while nothing starts or runs, saying why', async () => {
    givenQueue({
      RUNNABLE: [
        waiting('old', 2 * hour),
        { ...waiting('old-and-blocked', 3 * hour), statusReason: 'UNDETERMINED - Batch job is blocked' },
        waiting('young', 600),
      ],
    });

    const failed = await failStuckRunnableJobs(new BatchClient({}), jobQueue, hour, now);

    expect(failed).toEqual(['id-old', 'id-old-and-blocked']);
    expect(batch).toHaveReceivedCommandTimes(TerminateJobCommand, 2);
    expect(batch).toHaveReceivedCommandWith(TerminateJobCommand, {
      jobId: 'id-old',
      reason: stuckRunnableReason(60),
    });
    expect(batch).toHaveReceivedCommandWith(TerminateJobCommand, {
      jobId: 'id-old-and-blocked',
      reason: stuckRunnableReason(60, 'UNDETERMINED - Batch job is blocked'),
    });
  });

  it('names the network, the quotas and the compute environments in the reason', () => {
    const reason = stuckRunnableReason(60);

    expect(reason).toMatch(/^RUNNABLE for over 60 minutes/);
    expect(reason).toEqual(expect.stringContaining('ECS, ECR, S3, DynamoDB and CloudWatch Logs'));
    expect(reason).toEqual(expect.stringContaining('vCPU quotas'));
    // TerminateJob takes a reason of up to 1024 characters.
    expect(stuckRunnableReason(60, 'x'.repeat(200)).length).toBeLessThan(1024);
  });

  it.each(['STARTING', 'RUNNING'] as const)(
    'leaves old RUNNABLE jobs waiting their turn while a job is %s',
    async (status) => {
      givenQueue({
        RUNNABLE: [waiting('old', 2 * hour)],
        [status]: [{ jobId: 'busy', jobName: 'longtail-k', status }],
      });

      await expect(failStuckRunnableJobs(new BatchClient({}), jobQueue, hour, now)).resolves.toEqual([]);
      expect(batch).not.toHaveReceivedCommand(TerminateJobCommand);
    },
  );

  it('leaves them while a child of an array job runs (its parent is PENDING)', async () => {
    givenQueue({
      RUNNABLE: [waiting('old', 2 * hour)],
      PENDING: [{ jobId: 'array', jobName: 'longtail-j', createdAt: now }],
    });
    givenArrayParent({ RUNNING: 1, RUNNABLE: 3 });

    await expect(failStuckRunnableJobs(new BatchClient({}), jobQueue, hour, now)).resolves.toEqual([]);
    expect(batch).toHaveReceivedCommandWith(DescribeJobsCommand, { jobs: ['array'] });
    expect(batch).not.toHaveReceivedCommand(TerminateJobCommand);
  });

  it('fails an array job whose children have all waited too long, through its parent', async () => {
    givenQueue({ PENDING: [{ jobId: 'array', jobName: 'longtail-j', createdAt: now - 2 * hour * 1000 }] });
    givenArrayParent({ RUNNABLE: 4 });

    await expect(failStuckRunnableJobs(new BatchClient({}), jobQueue, hour, now)).resolves.toEqual(['array']);
    expect(batch).toHaveReceivedCommandWith(TerminateJobCommand, { jobId: 'array' });
  });

  it('does nothing when the limit is 0', async () => {
    givenQueue({ RUNNABLE: [waiting('old', 100 * hour)] });

    await expect(failStuckRunnableJobs(new BatchClient({}), jobQueue, 0, now)).resolves.toEqual([]);
    expect(batch).not.toHaveReceivedCommand(ListJobsCommand);
  });
});

describe('monitor-batch-queue handler', () => {
  beforeEach(() => {
    batch.reset();
    batch.on(ListJobsCommand).resolves({ jobSummaryList: [] });
  });

  it('asks Batch for the RUNNABLE jobs of the queue in BATCH_JOB_QUEUE', async () => {
    setHandlerEnv({ BATCH_JOB_QUEUE: jobQueue });

    await handler({}, lambdaContext('longtail-test-monitorBatchQueue'));

    expect(batch).toHaveReceivedCommandWith(ListJobsCommand, { jobQueue, jobStatus: 'RUNNABLE' });
  });

  it('fails jobs stuck RUNNABLE past RUNNABLE_FAIL_AFTER_SECONDS', async () => {
    setHandlerEnv({ BATCH_JOB_QUEUE: jobQueue, RUNNABLE_FAIL_AFTER_SECONDS: '60' });
    givenQueue({ RUNNABLE: [{ ...waiting('stuck'), createdAt: Date.now() - 120_000 }] });
    batch.on(TerminateJobCommand).resolves({});

    await handler({}, lambdaContext('longtail-test-monitorBatchQueue'));

    expect(batch).toHaveReceivedCommandWith(TerminateJobCommand, { jobId: 'id-stuck' });
  });

  it('fails no job when RUNNABLE_FAIL_AFTER_SECONDS is not set', async () => {
    setHandlerEnv({ BATCH_JOB_QUEUE: jobQueue, RUNNABLE_FAIL_AFTER_SECONDS: undefined });
    givenQueue({ RUNNABLE: [{ ...waiting('stuck'), createdAt: 0 }] });

    await handler({}, lambdaContext('longtail-test-monitorBatchQueue'));

    expect(batch).not.toHaveReceivedCommand(TerminateJobCommand);
  });

  it('fails naming BATCH_JOB_QUEUE when it is not set', async () => {
    setHandlerEnv({ BATCH_JOB_QUEUE: undefined });

    await expect(handler({}, lambdaContext('longtail-test-monitorBatchQueue'))).rejects.toThrow(
      'BATCH_JOB_QUEUE',
    );
    expect(batch).not.toHaveReceivedCommand(ListJobsCommand);
  });
});
