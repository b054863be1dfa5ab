import { Conflict, TransitionRejected } from '../errors';
import { getOwnedJob } from './get-job';
import { logger } from '../logger';
import type { BatchJobTerminator } from '../ports/batch-jobs';
import type { ExecutionStopper } from '../ports/executions';
import type { Job } from '../domain/job';
import type { JobEventPublisher } from '../ports/job-event-publisher';
import type { JobStore } from '../ports/job-store';
import { shardOutputLocationOf } from '../domain/locations';
import { jobEventOf } from '../domain/job-event';
import { partialCountsOf } from '../domain/shard-progress';
import type { ShardProgressStore } from '../ports/shard-progress-store';
import { toS3Uri } from '../domain/s3-location';

export interface CancelDeps {
  store: JobStore;
  executions: ExecutionStopper;
  batch: BatchJobTerminator;
  progress: ShardProgressStore;
  events: JobEventPublisher;
  outputsBucket: string;
  /**
   * Records what the job's Batch attempts used, the ones it stopped counted up to `until` (the
   * cancel), so that a cancelled job shows its cost like one that ended otherwise.
   */
  recordUsage: (jobId: string, until: Date) => Promise<unknown>;
  now?: () => Date;
}

export interface Cancellation {
  job: Job;
  /** The job was already cancelled: nothing was done again. */
  alreadyCancelled: boolean;
}

/**
 * `POST /jobs/{id}/cancel`. A pending job becomes cancelled and never runs (its execution, if
 * one starts, stops at "Mark job running"). A running one is marked cancelled first — so that a
 * completion racing it loses — then its execution is stopped and its Batch jobs terminated; the
 * shards that had finished keep their outputs, listed on the job, and its Batch attempts' time
 * (the stopped ones up to the cancel) is recorded as its usage. Asking again is harmless; a
 * job that already ended otherwise is a 409.
 */
export const cancelJob = async (ownerId: string, jobId: string, deps: CancelDeps): Promise<Cancellation> => {
  const job = await getOwnedJob(ownerId, jobId, deps.store);
  if (job.status === 'cancelled') return { job, alreadyCancelled: true };
  const cancelTime = (deps.now ?? (() => new Date()))();
  const now = cancelTime.toISOString();
  let cancelled: Job;
  try {
    cancelled = await deps.store.transition(jobId, 'cancelled', { completedAt: now, cancelRequestedAt: now });
  } catch (error) {
    if (!(error instanceof TransitionRejected)) throw error;
    const current = await deps.store.get(jobId);
    if (current?.status === 'cancelled') return { job: current, alreadyCancelled: true };
    throw new Conflict(
      'JOB_ALREADY_ENDED',
      `Job ${jobId} is ${current?.status ?? job.status}; only a pending or running job can be cancelled.`,
    );
  }

  // Only "Mark job running" sets the execution: it says the job was running when it was cancelled,
  // even when it started between the read above and the transition.
  if (cancelled.executionArn) {
    await deps.executions.stop(cancelled.executionArn, 'Cancelled by its owner');
    const terminated = await deps.batch.terminateAllFor(jobId, 'Cancelled by its owner');
    await deps.recordUsage(jobId, cancelTime);
    const rows = await deps.progress.listFor(jobId);
    const partialOutputs = rows
      .filter((row) => row.status === 'succeeded')
      .map((row) => toS3Uri(shardOutputLocationOf(deps.outputsBucket, jobId, row.index).output));
    cancelled = await deps.store.recordCancellation(jobId, {
      counts: partialCountsOf(cancelled.counts.total, rows),
      partialOutputs,
    });
    logger.info('Running job cancelled', {
      jobId,
      terminatedBatchJobs: terminated,
      partialOutputs: partialOutputs.length,
    });
  }
  await deps.events.publish(jobEventOf(cancelled));
  return { job: cancelled, alreadyCancelled: false };
};
