import type { ObjectStore } from '../aws/object-store';
import { toS3Uri } from '../aws/s3-uri';
import { AllRecordsFailed, TransitionRejected } from '../errors';
import type { Job, JobError } from './job';
import type { JobStore } from './job-store';
import { reportLocationOf } from './paths';
import type { WorkerReport } from './worker-report';
import { logger } from '../logger';

/**
 * The work behind the state machine's Lambda tasks. Each step is safe to run twice: Step
 * Functions retries a task whose Lambda timed out after it had done its work.
 */

export interface StepDeps {
  store: JobStore;
  objects: ObjectStore;
  outputsBucket: string;
  now?: () => Date;
}

/** What the Batch step needs to run the worker. */
export interface WorkerAssignment {
  jobId: string;
  model: string;
  inputUri: string;
  outputUri: string;
  failureUri: string;
  reportUri: string;
}

export interface JobEvent {
  type: `job.${'completed' | 'failed' | 'cancelled'}`;
  jobId: string;
  ownerId: string;
  status: Job['status'];
  model: string;
  outputUri: string;
  failureUri: string;
  counts: Job['counts'];
  error: JobError | null;
  startedAt: string | null;
  completedAt: string | null;
  executionArn: string | null;
}

const nowOf = (deps: StepDeps) => (deps.now ?? (() => new Date()))().toISOString();

export const jobEventOf = (job: Job): JobEvent => ({
  type: job.status === 'completed' || job.status === 'cancelled' ? `job.${job.status}` : 'job.failed',
  jobId: job.jobId,
  ownerId: job.ownerId,
  status: job.status,
  model: job.model,
  outputUri: job.outputUri,
  failureUri: job.failureUri,
  counts: job.counts,
  error: job.error ?? null,
  startedAt: job.startedAt ?? null,
  completedAt: job.completedAt ?? null,
  executionArn: job.executionArn ?? null,
});

/** PENDING → RUNNING, recording the execution; a retry by the same execution is a no-op. */
export const markJobRunning = async (
  jobId: string,
  executionArn: string,
  deps: StepDeps,
): Promise<WorkerAssignment> => {
  let job: Job;
  try {
    job = await deps.store.transition(jobId, 'running', { startedAt: nowOf(deps), executionArn });
  } catch (error) {
    const current = error instanceof TransitionRejected ? await deps.store.get(jobId) : undefined;
    if (current?.status !== 'running' || current.executionArn !== executionArn) throw error;
    job = current;
  }
  return {
    jobId,
    model: job.model,
    inputUri: job.inputUri,
    outputUri: job.outputUri,
    failureUri: job.failureUri,
    reportUri: toS3Uri(reportLocationOf(deps.outputsBucket, jobId)),
  };
};

/** RUNNING → COMPLETED with the worker's counts; a job with no successful record fails instead. */
export const completeJob = async (jobId: string, deps: StepDeps): Promise<JobEvent> => {
  const report = await deps.objects.readJson<WorkerReport>(reportLocationOf(deps.outputsBucket, jobId));
  if (report?.status !== 'succeeded') {
    throw new Error(`Job ${jobId}: the worker left no success report`);
  }
  const { counts } = report;
  if (counts.succeeded === 0) {
    throw new AllRecordsFailed(
      'ALL_RECORDS_FAILED',
      `All ${counts.total} records failed; see ${(await deps.store.get(jobId))?.failureUri ?? 'the failure file'}.`,
    );
  }
  try {
    return jobEventOf(await deps.store.transition(jobId, 'completed', { counts, completedAt: nowOf(deps) }));
  } catch (error) {
    const current = error instanceof TransitionRejected ? await deps.store.get(jobId) : undefined;
    if (current?.status !== 'completed') throw error;
    return jobEventOf(current);
  }
};

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

/** The job's error for what the state machine caught, preferring the worker's own words. */
export const jobErrorOf = (caught: CaughtError, report: WorkerReport | undefined): JobError => {
  if (caught.Error === 'AllRecordsFailed') {
    return { code: 'ALL_RECORDS_FAILED', message: lambdaErrorMessage(caught.Cause) ?? 'All records failed.' };
  }
  if (caught.Error === 'States.Timeout') {
    return { code: 'TIMED_OUT', message: 'The job ran longer than its time limit.' };
  }
  if (report?.status === 'failed') return report.error;
  if (caught.Error === 'States.TaskFailed') {
    return { code: 'WORKER_FAILED', message: batchFailureMessage(caught.Cause) };
  }
  return {
    code: 'INTERNAL_ERROR',
    message: `The job could not be run (${caught.Error}): ${lambdaErrorMessage(caught.Cause) ?? 'no detail'}`,
  };
};

/** PENDING | RUNNING → FAILED; a job that already ended keeps its end and is reported as is. */
/**
 * The worker's report if it can be read. Recording a failure must not depend on it: a worker
 * that never started leaves none, and S3 may answer that with 403 rather than 404.
 */
const reportIfReadable = async (jobId: string, deps: StepDeps): Promise<WorkerReport | undefined> => {
  try {
    return await deps.objects.readJson<WorkerReport>(reportLocationOf(deps.outputsBucket, jobId));
  } catch (error) {
    logger.warn('Worker report unreadable; recording the failure without it', { error: error as Error });
    return undefined;
  }
};

export const failJob = async (jobId: string, caught: CaughtError, deps: StepDeps): Promise<JobEvent> => {
  const report = await reportIfReadable(jobId, deps);
  const error = jobErrorOf(caught, report);
  try {
    const job = await deps.store.transition(jobId, 'failed', {
      error,
      completedAt: nowOf(deps),
      ...(report?.counts ? { counts: report.counts } : {}),
    });
    return jobEventOf(job);
  } catch (transitionError) {
    if (!(transitionError instanceof TransitionRejected)) throw transitionError;
    const current = await deps.store.get(jobId);
    if (!current) throw transitionError;
    return jobEventOf(current);
  }
};
