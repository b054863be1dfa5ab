import type { JobError } from './job';

/**
 * Why a job could not run at all, left by "Plan the shards" in work/<jobId>/report.json for
 * "Mark job failed" to read.
 */
export type PlanningReport = { status: 'failed'; error: JobError; counts?: undefined };

/** The `{ Error, Cause }` a Catch hands over. */
export interface CaughtError {
  Error: string;
  Cause?: string;
}

/** Lambda errors reach Step Functions as `{"errorType","errorMessage"}` JSON in Cause. */
const lambdaErrorMessage = (cause: string | undefined): string | undefined => {
  if (!cause) return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the cause is the message
  }
  return cause;
};

/** Batch `.sync` failures carry the DescribeJobs job as JSON in Cause. */
const batchFailureMessage = (cause: string | undefined): string => {
  try {
    const job = JSON.parse(cause ?? '') as {
      StatusReason?: string;
      Attempts?: { Container?: { ExitCode?: number } }[];
    };
    const exitCode = job.Attempts?.at(-1)?.Container?.ExitCode;
    return `The worker failed: ${job.StatusReason ?? 'no reason given'}${typeof exitCode === 'number' ? ` (exit code ${exitCode})` : ''}.`;
  } catch {
    return `The worker failed: ${cause ?? 'no reason given'}.`;
  }
};

/**
 * The job's error for what the state machine caught, preferring the words of whoever knew best:
 * the job-level report (planning), then a failed shard's own error, then the service's.
 */
export const jobErrorOf = (
  caught: CaughtError,
  report: PlanningReport | undefined,
  shardError?: JobError,
): JobError => {
  if (caught.Error === 'AllRecordsFailed') {
    return { code: 'ALL_RECORDS_FAILED', message: lambdaErrorMessage(caught.Cause) ?? 'All records failed.' };
  }
  if (caught.Error === 'TooManyFailedRecords') {
    return {
      code: 'TOO_MANY_FAILED_RECORDS',
      message: lambdaErrorMessage(caught.Cause) ?? 'Too many records failed.',
    };
  }
  if (caught.Error === 'States.Timeout') {
    return { code: 'TIMED_OUT', message: 'The job ran longer than its time limit.' };
  }
  if (report?.status === 'failed') return report.error;
  if (shardError) return shardError;
  if (caught.Error === 'States.TaskFailed') {
    return { code: 'WORKER_FAILED', message: batchFailureMessage(caught.Cause) };
  }
  return {
    code: 'INTERNAL_ERROR',
    message: `The job could not be run (${caught.Error}): ${lambdaErrorMessage(caught.Cause) ?? 'no detail'}`,
  };
};
