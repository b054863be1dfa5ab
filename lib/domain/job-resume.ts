import type { Job } from './job';

/**
 * The failures a later try can cure: a Batch job lost with its host beyond the retry strategy
 * (WORKER_FAILED: no shard said why), a time limit (TIMED_OUT), a throttled or failing service
 * past its retries (INTERNAL_ERROR), an execution that failed outside its Catch
 * (EXECUTION_FAILED). A job that failed on its own input (TOO_MANY_FAILED_RECORDS, EMPTY_INPUT,
 * INPUT_NOT_FOUND, a shard's own error, …) would fail the same way again.
 *
 * The state machine's "Can it be resumed?" Choice lists the same codes (a unit test holds them equal).
 */
export const resumableErrorCodes = [
  'WORKER_FAILED',
  'TIMED_OUT',
  'INTERNAL_ERROR',
  'EXECUTION_FAILED',
] as const;

/** Why the job cannot be resumed, or undefined when it can. */
export const resumeRefusalOf = (job: Job): string | undefined => {
  if (job.status !== 'failed') return `Job ${job.jobId} is ${job.status}; only a failed job can be resumed.`;
  if (!job.executionArn) return `Job ${job.jobId} failed before it ran; submit it again.`;
  const code = job.error?.code ?? 'unknown';
  if (!(resumableErrorCodes as readonly string[]).includes(code))
    return `Job ${job.jobId} failed on its own input (${code}): resuming would fail the same way; fix the input and submit it again.`;
  return undefined;
};
