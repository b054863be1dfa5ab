import type { Job } from './job';

/** What the API shows of a job: the record, minus storage details, plus links. */
export const jobView = (job: Job, apiBaseUrl: string) => ({
  jobId: job.jobId,
  status: job.status,
  model: job.model,
  modelVersion: job.modelVersion,
  input: job.input,
  outputUri: job.outputUri,
  failureUri: job.failureUri,
  counts: job.counts,
  createdAt: job.createdAt,
  startedAt: job.startedAt ?? null,
  completedAt: job.completedAt ?? null,
  error: job.error ?? null,
  executionArn: job.executionArn ?? null,
  webhookUrl: job.webhookUrl ?? null,
  statusUrl: `${apiBaseUrl}/jobs/${job.jobId}`,
});
export type JobView = ReturnType<typeof jobView>;
