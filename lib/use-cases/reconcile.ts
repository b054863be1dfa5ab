import { TransitionRejected } from '../errors';
import { logger } from '../logger';
import { isTerminal } from '../domain/job';
import type { Job, JobError } from '../domain/job';
import type { JobEventPublisher } from '../ports/job-event-publisher';
import type { JobStore } from '../ports/job-store';
import { jobEventOf } from '../domain/job-event';
import type { JobEvent } from '../domain/job-event';

/** What EventBridge says of an execution that ended other than by succeeding. */
export interface EndedExecution {
  executionArn: string;
  /** The execution name, which is the job id. */
  name: string;
  status: 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  error?: string | null;
  cause?: string | null;
}

export interface ReconcileDeps {
  store: JobStore;
  events: JobEventPublisher;
  now?: () => Date;
}

const errorFor = (execution: EndedExecution): JobError =>
  execution.status === 'TIMED_OUT'
    ? { code: 'TIMED_OUT', message: 'The job’s execution ran past its time limit.' }
    : {
        code: 'EXECUTION_FAILED',
        message: `The job’s execution failed before it could record why${execution.error ? ` (${execution.error}${execution.cause ? `: ${execution.cause}` : ''})` : ''}.`,
      };

/** Whether the job's end is the one reconciling this execution would have recorded. */
const endedByReconciling = (job: Job, execution: EndedExecution) =>
  job.executionArn === execution.executionArn &&
  // A cancellation the owner asked for was announced by the cancel call itself.
  job.cancelRequestedAt === undefined &&
  (execution.status === 'ABORTED'
    ? job.status === 'cancelled'
    : job.status === 'failed' && job.error?.code === errorFor(execution).code);

/**
 * Brings a job in line with an execution that ended without the state machine recording it
 * (stopped, timed out, or failed outside its Catch): a job still pending or running becomes
 * cancelled (ABORTED) or failed, and the end is announced on job-events. A job that already
 * ended is left as it is; so is a job that another writer ends first. A redelivered event for a
 * job it ended announces that end again (at least once), since the first announcement may have failed.
 */
export const reconcileEndedExecution = async (
  execution: EndedExecution,
  deps: ReconcileDeps,
): Promise<JobEvent | undefined> => {
  const job = await deps.store.get(execution.name);
  if (!job) {
    logger.warn('Ended execution names no job', { executionArn: execution.executionArn });
    return undefined;
  }
  if (isTerminal(job.status)) {
    // A retried event for a job this reconciler already ended: its announcement may be what failed.
    if (!endedByReconciling(job, execution)) return undefined;
    const event = jobEventOf(job);
    await deps.events.publish(event);
    return event;
  }
  const completedAt = (deps.now ?? (() => new Date()))().toISOString();
  let ended: Job;
  try {
    ended =
      execution.status === 'ABORTED'
        ? await deps.store.transition(job.jobId, 'cancelled', { completedAt })
        : await deps.store.transition(job.jobId, 'failed', { completedAt, error: errorFor(execution) });
  } catch (error) {
    if (error instanceof TransitionRejected) return undefined;
    throw error;
  }
  const event = jobEventOf(ended);
  await deps.events.publish(event);
  logger.info('Job reconciled with its ended execution', {
    jobId: job.jobId,
    executionStatus: execution.status,
    status: ended.status,
  });
  return event;
};
