import { BatchClient, ListJobsCommand } from '@aws-sdk/client-batch';
import type { JobSummary, ListJobsCommandInput } from '@aws-sdk/client-batch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/monitor-batch-queue';
import { oldestRunnableAgeSeconds } from '../../lib/aws/batch';
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

  it('fails naming BATCH_JOB_QUEUE when it is not set', async () => {
    setHandlerEnv({ BATCH_JOB_QUEUE: undefined });

    await expect(handler({}, lambdaContext('longtail-test-monitorBatchQueue'))).rejects.toThrow(
      'BATCH_JOB_QUEUE',
    );
    expect(batch).not.toHaveReceivedCommand(ListJobsCommand);
  });
});
