import type { ObjectStore } from '../aws/object-store';
import { toS3Uri } from '../aws/s3-uri';
import {
  AllRecordsFailed,
  JobNotRunnable,
  LongtailError,
  TooManyFailedRecords,
  TransitionRejected,
} from '../errors';
import { logger } from '../logger';
import { findModel } from '../models/registry';
import { assembleOutputs } from './assemble';
import type { Job, JobError, RecordCounts } from './job';
import type { JobStore } from './job-store';
import { reportLocationOf } from './paths';
import { planJob, planLocationOf } from './plan';
import type { JobPlan } from './plan';
import { partialCountsOf, summarizeShards } from './shard-progress';
import type { ShardProgress, ShardProgressStore } from './shard-progress';
import type { WorkerReport } from './worker-report';

/**
 * The work behind the state machine's Lambda tasks. Each step is safe to run twice: Step
 * Functions retries a task whose Lambda timed out after it had done its work.
 */

export interface StepDeps {
  store: JobStore;
  objects: ObjectStore;
  progress: ShardProgressStore;
  inputsBucket: string;
  outputsBucket: string;
  now?: () => Date;
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

/** What the Batch step needs: the plan's location and how many array children to run. */
export interface PlannedRun {
  shardCount: number;
  planUri: string;
}

/** A job that cannot run at all (no input, wrong format, nothing in it): the reason is in its report. */
export class JobCannotRun extends LongtailError {
  override name = 'JobCannotRun';
}

const nowOf = (deps: { now?: () => Date }) => (deps.now ?? (() => new Date()))().toISOString();

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
  deps: Pick<StepDeps, 'store' | 'now'>,
) => {
  try {
    await deps.store.transition(jobId, 'running', { startedAt: nowOf(deps), executionArn });
  } catch (error) {
    if (!(error instanceof TransitionRejected)) throw error;
    const current = await deps.store.get(jobId);
    if (current?.status === 'running' && current.executionArn === executionArn) return { jobId };
    // Cancelled (or otherwise ended) before it could run: the execution stops there, quietly.
    throw new JobNotRunnable(
      'JOB_NOT_RUNNABLE',
      `Job ${jobId} is ${current?.status ?? 'gone'}; it will not run.`,
    );
  }
  return { jobId };
};

const jobOrThrow = async (jobId: string, store: JobStore): Promise<Job> => {
  const job = await store.get(jobId);
  if (!job) throw new Error(`Job ${jobId} does not exist`);
  return job;
};

/**
 * Plans the job's shards and stores the plan in S3. An input the job cannot run on is reported
 * (work/<jobId>/report.json) and raised as JobCannotRun, which the state machine turns into a
 * failed job with that report's code.
 */
export const planJobStep = async (jobId: string, deps: StepDeps): Promise<PlannedRun> => {
  const job = await jobOrThrow(jobId, deps.store);
  let plan: JobPlan;
  try {
    const model = findModel(job.model);
    if (!model) throw new LongtailError('MODEL_NOT_FOUND', `Model ${job.model} is no longer served.`);
    plan = await planJob(job, model, deps);
  } catch (error) {
    if (!(error instanceof LongtailError)) throw error;
    const report: WorkerReport = { status: 'failed', error: { code: error.code, message: error.message } };
    await deps.objects.putText(
      reportLocationOf(deps.outputsBucket, jobId),
      JSON.stringify(report),
      'application/json',
    );
    throw new JobCannotRun(error.code, error.message);
  }
  const location = planLocationOf(deps.outputsBucket, jobId);
  await deps.objects.putText(location, JSON.stringify(plan), 'application/json');
  await deps.store.recordPlan(jobId, { shardCount: plan.shards.length, totalRecords: plan.totalRecords });
  logger.info('Job planned', {
    files: plan.files.length,
    shards: plan.shards.length,
    records: plan.totalRecords,
  });
  return { shardCount: plan.shards.length, planUri: toS3Uri(location) };
};

const countsOf = (plan: JobPlan, rows: ShardProgress[]): RecordCounts => {
  const { succeeded, failed } = summarizeShards(rows, plan.shards.length);
  return { total: plan.totalRecords, succeeded, failed };
};

/**
 * Sums the shards' counts, joins their outputs into each file's `.out` and `.out.failed` in
 * input order, and moves the job RUNNING → COMPLETED. A job with no successful record, or more
 * failures than its maxFailedRecordsPercent, fails instead.
 */
export const completeJob = async (jobId: string, deps: StepDeps): Promise<JobEvent> => {
  const plan = await deps.objects.readJson<JobPlan>(planLocationOf(deps.outputsBucket, jobId));
  if (!plan) throw new Error(`Job ${jobId} has no plan`);
  const counts = countsOf(plan, await deps.progress.listFor(jobId));
  await assembleOutputs(plan, deps.objects, deps.outputsBucket);
  if (counts.succeeded === 0) {
    throw new AllRecordsFailed(
      'ALL_RECORDS_FAILED',
      `All ${counts.failed} records failed; see the failure files under ${plan.files[0]?.failureUri ?? 'the outputs'}.`,
    );
  }
  if ((counts.failed * 100) / counts.total > plan.options.maxFailedRecordsPercent) {
    throw new TooManyFailedRecords(
      'TOO_MANY_FAILED_RECORDS',
      `${counts.failed} of ${counts.total} records failed, more than maxFailedRecordsPercent (${plan.options.maxFailedRecordsPercent}%).`,
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
  report: WorkerReport | undefined,
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

/**
 * Recording a failure must not depend on reading the reports: a worker that never started
 * leaves none, and S3 may answer that with 403 rather than 404.
 */
const readQuietly = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
  try {
    return await read();
  } catch (error) {
    logger.warn('Report unreadable; recording the failure without it', { error: error as Error });
    return undefined;
  }
};

/** PENDING | RUNNING → FAILED; a job that already ended keeps its end and is reported as is. */
export const failJob = async (jobId: string, caught: CaughtError, deps: StepDeps): Promise<JobEvent> => {
  const report = await readQuietly(() =>
    deps.objects.readJson<WorkerReport>(reportLocationOf(deps.outputsBucket, jobId)),
  );
  const rows = (await readQuietly(() => deps.progress.listFor(jobId))) ?? [];
  const shardError = rows.find((row) => row.status === 'failed' && row.error)?.error;
  const error = jobErrorOf(caught, report, shardError);
  const job = await deps.store.get(jobId);
  const counts = rows.length > 0 && job ? partialCountsOf(job.counts.total, rows) : undefined;
  try {
    return jobEventOf(
      await deps.store.transition(jobId, 'failed', {
        error,
        completedAt: nowOf(deps),
        ...(counts ? { counts } : {}),
      }),
    );
  } catch (transitionError) {
    if (!(transitionError instanceof TransitionRejected)) throw transitionError;
    const current = await deps.store.get(jobId);
    if (!current) throw transitionError;
    return jobEventOf(current);
  }
};
