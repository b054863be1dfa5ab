import { JobNotRunnable, TransitionRejected } from '../../errors';
import { nowOf } from './step-deps';
import type { StepDeps } from './step-deps';

/** State "Mark job running": PENDING → RUNNING, recording the execution; a retry by the same execution is a no-op. */
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
