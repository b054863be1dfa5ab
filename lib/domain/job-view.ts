import type { Job } from './job';
import type { ShardSummary } from './shard-progress';

/** The execution's page in the Step Functions console; none locally, where there is no console. */
export const consoleUrlOf = (executionArn: string | undefined): string | null => {
  if (!executionArn || process.env.LONGTAIL_CONSOLE_LINKS === 'false') return null;
  const region = executionArn.split(':')[3];
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
};

/** Live progress of a running job, summed from its shards' rows. */
export interface JobProgress {
  succeeded: number;
  failed: number;
  /** Input bytes the shards have read. */
  bytes?: number;
  shards: ShardSummary;
}

/**
 * While a job runs, its record total is unknown when planning did not count it (`null`); bytes
 * read of the input's size say how far it is either way.
 */
const runningCountsOf = (job: Job, progress: JobProgress) => ({
  total: job.recordsCounted === false ? null : job.counts.total,
  succeeded: progress.succeeded,
  failed: progress.failed,
});

/**
 * What the API shows of a job: the record, minus storage details, plus links. While it runs,
 * the counts come from its shards' progress.
 */
export const jobView = (job: Job, apiBaseUrl: string, progress?: JobProgress) => ({
  jobId: job.jobId,
  status: job.status,
  model: job.model,
  modelVersion: job.modelVersion,
  modelChecksum: job.modelChecksum ?? null,
  input: job.input,
  options: job.options,
  source: job.source,
  parentJobId: job.parentJobId ?? null,
  outputUri: job.outputUri,
  failureUri: job.failureUri,
  counts: job.status === 'running' && progress ? runningCountsOf(job, progress) : job.counts,
  shards: progress?.shards ?? null,
  bytes:
    job.inputBytes !== undefined
      ? {
          read: job.status === 'completed' ? job.inputBytes : Math.min(progress?.bytes ?? 0, job.inputBytes),
          total: job.inputBytes,
        }
      : null,
  createdAt: job.createdAt,
  startedAt: job.startedAt ?? null,
  completedAt: job.completedAt ?? null,
  error: job.error ?? null,
  cancelRequestedAt: job.cancelRequestedAt ?? null,
  partialOutputs: job.partialOutputs ?? null,
  executionArn: job.executionArn ?? null,
  consoleUrl: consoleUrlOf(job.executionArn),
  webhookUrl: job.webhookUrl ?? null,
  webhookAttempts: job.webhookAttempts ?? [],
  statusUrl: `${apiBaseUrl}/jobs/${job.jobId}`,
});
export type JobView = ReturnType<typeof jobView>;

/** The webhook secret, for the answer to the request that made the job (never in its status). */
export const webhookSecretOf = (job: Job) => (job.webhookSecret ? { webhookSecret: job.webhookSecret } : {});
