import type { Job } from './job';

/** The execution's page in the Step Functions console; none locally, where there is no console. */
export const consoleUrlOf = (executionArn: string | undefined): string | null => {
  if (!executionArn || process.env.LONGTAIL_CONSOLE_LINKS === 'false') return null;
  const region = executionArn.split(':')[3];
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
};

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
  consoleUrl: consoleUrlOf(job.executionArn),
  webhookUrl: job.webhookUrl ?? null,
  statusUrl: `${apiBaseUrl}/jobs/${job.jobId}`,
});
export type JobView = ReturnType<typeof jobView>;
