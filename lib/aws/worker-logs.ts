import { GetLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { BatchClient, JobDetail } from '@aws-sdk/client-batch';
import { batchJobsOfShard } from './batch';
import { batchClient, logsClient } from './clients';
import { requireEnv } from '../config';
import type { WorkerLogs } from '../ports/worker-logs';

/** One attempt's log stream: Batch names it on the attempt (and on the job while it runs). */
interface AttemptStream {
  batchJobId: string;
  logStreamName: string;
}

/**
 * A shard's attempts in the order they ran: each Batch job's (or array child's) stopped attempts,
 * then the one running now, which Batch lists only on the job itself until it stops.
 */
const streamsOf = (jobs: JobDetail[]): AttemptStream[] =>
  jobs.flatMap((job) => {
    const batchJobId = job.jobId ?? '';
    const ended = (job.attempts ?? []).flatMap((attempt) =>
      attempt.container?.logStreamName
        ? [{ batchJobId, logStreamName: attempt.container.logStreamName }]
        : [],
    );
    const current = job.container?.logStreamName;
    const running = job.status === 'STARTING' || job.status === 'RUNNING';
    return running && current && !ended.some((stream) => stream.logStreamName === current)
      ? [...ended, { batchJobId, logStreamName: current }]
      : ended;
  });

/**
 * The workers' logs in a deployment: CloudWatch Logs, the group the job definition's
 * LogConfiguration names. Batch says which stream each attempt wrote (DescribeJobs on the array
 * child `<batchJobId>:<shard>`); this reads the tail of each.
 */
export class CloudWatchWorkerLogs implements WorkerLogs {
  constructor(
    private readonly logGroup: () => string,
    private readonly batch: () => BatchClient = batchClient.get,
    private readonly logs: () => CloudWatchLogsClient = logsClient.get,
    private readonly jobQueue: () => string = () => requireEnv('BATCH_JOB_QUEUE'),
  ) {}

  async tail(jobId: string, shard: number, maxLines: number) {
    const jobs = await batchJobsOfShard(this.batch(), this.jobQueue(), jobId, shard);
    const streams = streamsOf(jobs);
    return Promise.all(
      streams.map(async ({ logStreamName }, index) => {
        const lines = await this.lastLines(logStreamName, maxLines + 1);
        return {
          attempt: index + 1,
          source: `${this.logGroup()}/${logStreamName}`,
          lines: lines.slice(-maxLines),
          truncated: lines.length > maxLines,
        };
      }),
    );
  }

  /** The stream's last `count` events (one a line); none while the container has not logged yet. */
  private async lastLines(logStreamName: string, count: number): Promise<string[]> {
    try {
      // startFromHead false with no start time: the newest events, returned oldest first.
      const { events = [] } = await this.logs().send(
        new GetLogEventsCommand({
          logGroupName: this.logGroup(),
          logStreamName,
          limit: count,
          startFromHead: false,
        }),
      );
      return events.map((event) => (event.message ?? '').replace(/\r?\n$/, ''));
    } catch (error) {
      // Batch names the stream when the container starts; CloudWatch has it only from its first line.
      if (error instanceof ResourceNotFoundException) return [];
      throw error;
    }
  }
}
