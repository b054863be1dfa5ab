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

/**
 * Batch `.sync` failures carry the DescribeJobs job as JSON in Cause. The container's reason
 * says what the status reason does not: ECS killed it for its memory, or could not pull its image.
 */
const batchFailureMessage = (cause: string | undefined): string => {
  try {
    const job = JSON.parse(cause ?? '') as {
      StatusReason?: string;
      Attempts?: { Container?: { ExitCode?: number; Reason?: string } }[];
      Container?: { ResourceRequirements?: { Type?: string; Value?: string }[] };
    };
    const { ExitCode: exitCode, Reason: reason } = job.Attempts?.at(-1)?.Container ?? {};
    const memory = job.Container?.ResourceRequirements?.find((r) => r.Type === 'MEMORY')?.Value;
    const said = (prefix: string) => [reason, job.StatusReason].find((text) => text?.startsWith(prefix));
    const outOfMemory = said('OutOfMemoryError');
    if (outOfMemory) {
      return `The worker ran out of memory (${outOfMemory}): the job definition gives it ${memory ? `${memory} MiB` : 'a fixed amount'} (MEMORY in WorkerJobDefinition, serverless.yml). Lower maxBatchSize or maxPayloadMB, or raise that setting.`;
    }
    const cannotPull = said('CannotPullContainerError');
    if (cannotPull) {
      return `The worker image could not be pulled (${cannotPull}): push it with gpu-container/push-image.sh.`;
    }
    const detail = [reason, typeof exitCode === 'number' ? `exit code ${exitCode}` : undefined]
      .filter(Boolean)
      .join(', ');
    return `The worker failed: ${job.StatusReason ?? 'no reason given'}${detail ? ` (${detail})` : ''}.`;
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
