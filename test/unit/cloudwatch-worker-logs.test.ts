import { BatchClient, DescribeJobsCommand, ListJobsCommand } from '@aws-sdk/client-batch';
import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { CloudWatchWorkerLogs } from '../../lib/aws/worker-logs';
import { setHandlerEnv } from '../fixtures/env';

const batch = mockClient(BatchClient);
const logs = mockClient(CloudWatchLogsClient);
const queue = 'arn:aws:batch:us-east-1:123456789012:job-queue/longtail-test-gpu';
const group = '/aws/batch/longtail-test-worker';
const detail = { jobName: 'longtail-job-1', jobQueue: queue, jobDefinition: 'd', startedAt: 5 };
const linesOf = (...messages: string[]) => ({
  events: messages.map((message, i) => ({ timestamp: i, message, ingestionTime: i })),
});

describe('CloudWatchWorkerLogs', () => {
  beforeEach(() => {
    setHandlerEnv({ BATCH_JOB_QUEUE: queue });
    batch.reset();
    logs.reset();
  });

  it('reads the tail of each attempt’s stream of the shard’s array child, the running one last', async () => {
    batch.on(ListJobsCommand).resolves({
      jobSummaryList: [{ jobId: 'parent', jobName: 'longtail-job-1', status: 'PENDING', createdAt: 1 }],
    });
    batch.on(DescribeJobsCommand, { jobs: ['parent'] }).resolves({
      jobs: [{ ...detail, jobId: 'parent', status: 'PENDING', arrayProperties: { size: 3 } }],
    });
    batch.on(DescribeJobsCommand, { jobs: ['parent:2'] }).resolves({
      jobs: [
        {
          ...detail,
          jobId: 'parent:2',
          status: 'RUNNING',
          arrayProperties: { index: 2 },
          // A Spot reclaim, then the retry now running: Batch lists it only on the job until it stops.
          attempts: [{ startedAt: 10, stoppedAt: 40, container: { logStreamName: 'worker/default/a1' } }],
          container: { logStreamName: 'worker/default/a2' },
        },
      ],
    });
    logs
      .on(GetLogEventsCommand, { logStreamName: 'worker/default/a1' })
      .resolves(linesOf('line 1\n', 'line 2', 'line 3', 'interrupted'));
    logs.on(GetLogEventsCommand, { logStreamName: 'worker/default/a2' }).resolves(linesOf('starting again'));

    const attempts = await new CloudWatchWorkerLogs(() => group).tail('job-1', 2, 3);

    expect(batch).toHaveReceivedCommandWith(ListJobsCommand, {
      jobQueue: queue,
      filters: [{ name: 'JOB_NAME', values: ['longtail-job-1'] }],
    });
    expect(logs).toHaveReceivedCommandWith(GetLogEventsCommand, {
      logGroupName: group,
      logStreamName: 'worker/default/a1',
      limit: 4,
      startFromHead: false,
    });
    expect(attempts).toEqual([
      {
        attempt: 1,
        source: `${group}/worker/default/a1`,
        lines: ['line 2', 'line 3', 'interrupted'],
        truncated: true,
      },
      { attempt: 2, source: `${group}/worker/default/a2`, lines: ['starting again'], truncated: false },
    ]);
  });

  it('reads a single Batch job for shard 0, and a stream not created yet as no lines', async () => {
    batch.on(ListJobsCommand).resolves({
      jobSummaryList: [{ jobId: 'single', jobName: 'longtail-job-1', status: 'STARTING', createdAt: 1 }],
    });
    batch.on(DescribeJobsCommand, { jobs: ['single'] }).resolves({
      jobs: [
        { ...detail, jobId: 'single', status: 'STARTING', container: { logStreamName: 'worker/default/s1' } },
      ],
    });
    logs
      .on(GetLogEventsCommand)
      .rejects(
        new ResourceNotFoundException({ message: 'The specified log stream does not exist.', $metadata: {} }),
      );

    const first = await new CloudWatchWorkerLogs(() => group).tail('job-1', 0, 200);
    const other = await new CloudWatchWorkerLogs(() => group).tail('job-1', 1, 200);

    expect(first).toEqual([
      { attempt: 1, source: `${group}/worker/default/s1`, lines: [], truncated: false },
    ]);
    expect(other).toEqual([]);
  });

  it('has no attempts for a shard whose Batch job has not been submitted, and passes other errors on', async () => {
    batch.on(ListJobsCommand).resolves({ jobSummaryList: [] });

    await expect(new CloudWatchWorkerLogs(() => group).tail('job-1', 0, 200)).resolves.toEqual([]);
    expect(batch).not.toHaveReceivedCommand(DescribeJobsCommand);
    expect(logs).not.toHaveReceivedCommand(GetLogEventsCommand);

    batch.on(ListJobsCommand).resolves({
      jobSummaryList: [{ jobId: 'single', jobName: 'longtail-job-1', status: 'FAILED', createdAt: 1 }],
    });
    batch.on(DescribeJobsCommand, { jobs: ['single'] }).resolves({
      jobs: [
        {
          ...detail,
          jobId: 'single',
          status: 'FAILED',
          attempts: [{ startedAt: 1, stoppedAt: 2, container: { logStreamName: 'worker/default/s1' } }],
        },
      ],
    });
    logs.on(GetLogEventsCommand).rejects(new Error('AccessDeniedException: not allowed'));

    await expect(new CloudWatchWorkerLogs(() => group).tail('job-1', 0, 200)).rejects.toThrow('not allowed');
  });
});
