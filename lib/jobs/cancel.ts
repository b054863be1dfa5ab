import { ListJobsCommand, TerminateJobCommand } from '@aws-sdk/client-batch';
import type { BatchClient, JobStatus as BatchJobStatus } from '@aws-sdk/client-batch';
import { ExecutionDoesNotExist, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { batchClient, sfnClient } from '../aws/clients';
import { requireEnv } from '../config';
import { Conflict, NotFound, TransitionRejected } from '../errors';
import { logger } from '../logger';
import type { Job } from './job';
import type { JobEventPublisher } from './job-events';
import type { JobStore } from './job-store';
import { shardOutputLocationOf } from './plan';
import { jobEventOf } from './run-steps';
import { partialCountsOf } from './shard-progress';
import type { ShardProgressStore } from './shard-progress';
import { toS3Uri } from '../aws/s3-uri';

export interface ExecutionStopper {
  stop(executionArn: string, cause: string): Promise<void>;
}

export interface BatchJobTerminator {
  /** Terminates every unfinished Batch job of a Longtail job (array children go with their parent). */
  terminateAllFor(jobId: string, reason: string): Promise<number>;
}

/** The Batch job name the state machine gives a job's worker: `longtail-<jobId>`. */
export const batchJobNameOf = (jobId: string) => `longtail-${jobId}`;

export class StepFunctionsExecutionStopper implements ExecutionStopper {
  constructor(private readonly client: () => SFNClient = sfnClient.get) {}

  async stop(executionArn: string, cause: string) {
    try {
      await this.client().send(new StopExecutionCommand({ executionArn, error: 'JobCancelled', cause }));
    } catch (error) {
      if (!(error instanceof ExecutionDoesNotExist)) throw error;
    }
  }
}

const unfinished: BatchJobStatus[] = ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING'];

export class AwsBatchJobTerminator implements BatchJobTerminator {
  constructor(
    private readonly client: () => BatchClient = batchClient.get,
    private readonly jobQueue: () => string = () => requireEnv('BATCH_JOB_QUEUE'),
  ) {}

  async terminateAllFor(jobId: string, reason: string) {
    let terminated = 0;
    let nextToken: string | undefined;
    do {
      const page = await this.client().send(
        new ListJobsCommand({
          jobQueue: this.jobQueue(),
          filters: [{ name: 'JOB_NAME', values: [batchJobNameOf(jobId)] }],
          nextToken,
        }),
      );
      for (const summary of page.jobSummaryList ?? []) {
        if (!summary.jobId || !summary.status || !unfinished.includes(summary.status)) continue;
        await this.client().send(new TerminateJobCommand({ jobId: summary.jobId, reason }));
        terminated++;
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return terminated;
  }
}

export interface CancelDeps {
  store: JobStore;
  executions: ExecutionStopper;
  batch: BatchJobTerminator;
  progress: ShardProgressStore;
  events: JobEventPublisher;
  outputsBucket: string;
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
 * shards that had finished keep their outputs, listed on the job. Asking again is harmless; a
 * job that already ended otherwise is a 409.
 */
export const cancelJob = async (ownerId: string, jobId: string, deps: CancelDeps): Promise<Cancellation> => {
  const job = await deps.store.get(jobId);
  if (!job || job.ownerId !== ownerId) throw new NotFound('JOB_NOT_FOUND', `There is no job ${jobId}.`);
  if (job.status === 'cancelled') return { job, alreadyCancelled: true };
  const now = (deps.now ?? (() => new Date()))().toISOString();
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
