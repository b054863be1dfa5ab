import { Conflict, ExecutionNotRedrivable, TransitionRejected } from '../errors';
import { logger } from '../logger';
import type { Job } from '../domain/job';
import { resumeRefusalOf } from '../domain/job-resume';
import type { ExecutionLookup, ExecutionRedriver } from '../ports/executions';
import type { JobStore } from '../ports/job-store';
import { getOwnedJob } from './get-job';

export interface ResumeDeps {
  store: JobStore;
  executions: ExecutionRedriver & ExecutionLookup;
  now?: () => Date;
  /** How long to wait for a failed job's execution to end before redriving it (default 10 s). */
  settleMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The job is marked failed a moment before its execution ends ("Announce job failed", then
 * "Wait for a resume" fails it): a redrive asked for in between finds it still running. Waits
 * for it to end, briefly; whether it ended.
 */
const executionEnded = async (executionArn: string, deps: ResumeDeps) => {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + (deps.settleMs ?? 10_000);
  for (;;) {
    const execution = await deps.executions.describe(executionArn);
    if (execution?.status !== 'RUNNING') return true;
    if (Date.now() >= deadline) return false;
    await sleep(250);
  }
};

/**
 * `POST /jobs/{id}/resume`: a job that failed for a reason a later try can cure goes on from
 * where it stopped. The job goes back to running first (so that its execution's "Wait for a
 * resume" state lets it through), then its execution is redriven: the same execution, its
 * finished states not run again, and in the Batch step the shards that had succeeded exit at
 * once (their workers find their rows succeeded). A job that failed on its own input, or did not
 * fail, is a 409 with the reason; if Step Functions refuses the redrive, the job is failed again
 * as it was.
 */
export const resumeJob = async (ownerId: string, jobId: string, deps: ResumeDeps): Promise<Job> => {
  const job = await getOwnedJob(ownerId, jobId, deps.store);
  const refusal = resumeRefusalOf(job);
  if (refusal) throw new Conflict('NOT_RESUMABLE', refusal);
  if (!(await executionEnded(job.executionArn!, deps))) {
    throw new Conflict(
      'NOT_RESUMABLE',
      `Job ${jobId} has failed but its execution is still ending; resume it again in a few seconds.`,
    );
  }
  const now = (deps.now ?? (() => new Date()))().toISOString();
  let reopened: Job;
  try {
    reopened = await deps.store.reopen(jobId, now);
  } catch (error) {
    if (!(error instanceof TransitionRejected)) throw error;
    throw new Conflict('NOT_RESUMABLE', error.message);
  }
  try {
    await deps.executions.redrive(job.executionArn!);
  } catch (error) {
    // Back to how it was: failed, with its own error.
    await deps.store.transition(jobId, 'failed', { completedAt: job.completedAt ?? now, error: job.error });
    if (error instanceof ExecutionNotRedrivable) throw new Conflict('NOT_RESUMABLE', error.message);
    throw error;
  }
  logger.info('Job resumed', { jobId, error: job.error?.code });
  return reopened;
};
