import {
  BatchClient,
  DescribeComputeEnvironmentsCommand,
  DescribeJobQueuesCommand,
  DescribeJobsCommand,
  ListJobsCommand,
} from '@aws-sdk/client-batch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AwsBatchQueueReader, AwsBatchUsageReader } from '../../lib/aws/batch';
import { recordJobUsage } from '../../lib/use-cases/record-usage';
import { InMemoryJobStore } from '../fixtures/in-memory';
import { setHandlerEnv } from '../fixtures/env';

const batch = mockClient(BatchClient);
const queue = 'arn:aws:batch:us-east-1:123456789012:job-queue/longtail-test-gpu';
const t = (second: number) => Date.UTC(2026, 0, 1, 0, 0, second);

describe('AwsBatchUsageReader', () => {
  beforeEach(() => {
    setHandlerEnv({ BATCH_JOB_QUEUE: queue });
    batch.reset();
  });

  it('reads each array child’s attempts from Batch’s own started and stopped times', async () => {
    batch.on(ListJobsCommand).resolves({
      jobSummaryList: [{ jobId: 'parent', jobName: 'longtail-job-1', status: 'SUCCEEDED', createdAt: t(0) }],
    });
    batch.on(DescribeJobsCommand, { jobs: ['parent'] }).resolves({
      jobs: [
        {
          jobId: 'parent',
          jobName: 'longtail-job-1',
          jobQueue: queue,
          jobDefinition: 'd',
          status: 'SUCCEEDED',
          startedAt: t(0),
          arrayProperties: { size: 2 },
        },
      ],
    });
    batch.on(DescribeJobsCommand, { jobs: ['parent:0', 'parent:1'] }).resolves({
      jobs: [
        {
          jobId: 'parent:0',
          jobName: 'n',
          jobQueue: queue,
          jobDefinition: 'd',
          status: 'SUCCEEDED',
          startedAt: t(0),
          arrayProperties: { index: 0 },
          attempts: [{ startedAt: t(10), stoppedAt: t(70) }],
        },
        {
          jobId: 'parent:1',
          jobName: 'n',
          jobQueue: queue,
          jobDefinition: 'd',
          status: 'SUCCEEDED',
          startedAt: t(0),
          arrayProperties: { index: 1 },
          // A Spot reclaim, then a second attempt; an attempt that never started holds no instance.
          attempts: [
            { startedAt: t(10), stoppedAt: t(40) },
            { startedAt: t(50), stoppedAt: t(110) },
            { stoppedAt: t(111) },
          ],
        },
      ],
    });

    const attempts = await new AwsBatchUsageReader().attemptsFor('job-1');

    expect(batch).toHaveReceivedCommandWith(ListJobsCommand, {
      jobQueue: queue,
      filters: [{ name: 'JOB_NAME', values: ['longtail-job-1'] }],
    });
    expect(attempts.map((a) => [a.batchJobId, a.shard, a.attempt, a.seconds])).toEqual([
      ['parent:0', 0, 1, 60],
      ['parent:1', 1, 1, 30],
      ['parent:1', 1, 2, 60],
    ]);

    const store = new InMemoryJobStore();
    await store.create({ jobId: 'job-1' } as never);
    const usage = await recordJobUsage('job-1', {
      batch: new AwsBatchUsageReader(),
      store,
      instanceType: 'g4dn.xlarge',
      measuredBy: 'aws-batch',
    });
    expect(usage.gpuSeconds).toBe(150);
    expect((await store.get('job-1'))?.usage?.gpuSeconds).toBe(150);
  });
  it('counts the attempt still running up to `until` (a cancel), and none when not asked to', async () => {
    batch.on(ListJobsCommand).resolves({
      jobSummaryList: [{ jobId: 'single', jobName: 'longtail-job-1', status: 'RUNNING', createdAt: t(0) }],
    });
    batch.on(DescribeJobsCommand, { jobs: ['single'] }).resolves({
      jobs: [
        {
          jobId: 'single',
          jobName: 'longtail-job-1',
          jobQueue: queue,
          jobDefinition: 'd',
          status: 'RUNNING',
          // Batch's startedAt may still be the first attempt's; the retry began after it stopped.
          startedAt: t(10),
          attempts: [{ startedAt: t(10), stoppedAt: t(40) }],
        },
      ],
    });

    const cancelled = await new AwsBatchUsageReader().attemptsFor('job-1', new Date(t(100)));
    const ended = await new AwsBatchUsageReader().attemptsFor('job-1');

    expect(cancelled.map((a) => [a.batchJobId, a.shard, a.attempt, a.startedAt, a.seconds])).toEqual([
      ['single', null, 1, new Date(t(10)).toISOString(), 30],
      ['single', null, 2, new Date(t(40)).toISOString(), 60],
    ]);
    expect(ended.map((a) => a.seconds)).toEqual([30]);
  });
});

describe('AwsBatchQueueReader', () => {
  beforeEach(() => {
    setHandlerEnv({ BATCH_JOB_QUEUE: queue });
    batch.reset();
  });

  it('says how long each RUNNABLE job has waited, and the state of the queue and its environments', async () => {
    batch
      .on(ListJobsCommand, { jobStatus: 'RUNNABLE' })
      .resolves({ jobSummaryList: [{ jobId: 'b1', jobName: 'longtail-job-2', createdAt: t(0) }] });
    batch.on(DescribeJobQueuesCommand).resolves({
      jobQueues: [
        {
          jobQueueName: 'longtail-test-gpu',
          jobQueueArn: queue,
          state: 'ENABLED',
          status: 'VALID',
          priority: 1,
          computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'ce-spot' }],
        },
      ],
    });
    batch.on(DescribeComputeEnvironmentsCommand, { computeEnvironments: ['ce-spot'] }).resolves({
      computeEnvironments: [
        {
          computeEnvironmentName: 'spot',
          computeEnvironmentArn: 'ce-spot',
          state: 'ENABLED',
          status: 'VALID',
          computeResources: { type: 'SPOT', maxvCpus: 16, desiredvCpus: 4, subnets: [] },
        },
      ],
    });

    const reader = new AwsBatchQueueReader();

    expect(await reader.runnable(t(90))).toEqual([
      { batchJobId: 'b1', jobName: 'longtail-job-2', waitingSeconds: 90 },
    ]);
    expect(await reader.capacity()).toEqual({
      queues: [{ name: 'longtail-test-gpu', state: 'ENABLED', status: 'VALID' }],
      computeEnvironments: [
        { name: 'spot', state: 'ENABLED', status: 'VALID', desiredvCpus: 4, maxvCpus: 16 },
      ],
    });
  });
});
