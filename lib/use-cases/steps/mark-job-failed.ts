import { jobEventOf } from '../../domain/job-event';
import type { JobEvent } from '../../domain/job-event';
import { jobErrorOf } from '../../domain/job-failure';
import type { CaughtError } from '../../domain/job-failure';
import { reportLocationOf, shardOutputLocationOf } from '../../domain/locations';
import { toS3Uri } from '../../domain/s3-location';
import { partialCountsOf } from '../../domain/shard-progress';
import type { PlanningReport } from '../../domain/job-failure';
import { TransitionRejected } from '../../errors';
import { logger } from '../../logger';
import { nowOf } from './step-deps';
import type { StepDeps } from './step-deps';

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

/**
 * State "Mark job failed": the reason as an error code, PENDING | RUNNING → FAILED; a job that
 * already ended keeps its end and is reported as is.
 */
export const markJobFailed = async (
  jobId: string,
  caught: CaughtError,
  deps: StepDeps,
): Promise<JobEvent> => {
  const report = await readQuietly(() =>
    deps.objects.readJson<PlanningReport>(reportLocationOf(deps.outputsBucket, jobId)),
  );
  const rows = (await readQuietly(() => deps.progress.listFor(jobId))) ?? [];
  const shardError = rows.find((row) => row.status === 'failed' && row.error)?.error;
  const error = jobErrorOf(caught, report, shardError);
  const job = await deps.store.get(jobId);
  // Uncounted at planning, the total is what the shards got to.
  const counts =
    rows.length > 0 && job
      ? partialCountsOf(job.recordsCounted === false ? undefined : job.counts.total, rows)
      : undefined;
  // As a cancelled job's: the outputs of the shards that had finished stay, listed on the job.
  const partialOutputs = rows
    .filter((row) => row.status === 'succeeded')
    .map((row) => toS3Uri(shardOutputLocationOf(deps.outputsBucket, jobId, row.index).output));
  try {
    return jobEventOf(
      await deps.store.transition(jobId, 'failed', {
        error,
        completedAt: nowOf(deps),
        ...(counts ? { counts } : {}),
        ...(partialOutputs.length > 0 ? { partialOutputs } : {}),
      }),
    );
  } catch (transitionError) {
    if (!(transitionError instanceof TransitionRejected)) throw transitionError;
    const current = await deps.store.get(jobId);
    if (!current) throw transitionError;
    return jobEventOf(current);
  }
};
