import type { Job, JobError } from './job';

/** What the job-events topic carries when a job ends: the SNS message, the webhook's `data`. */
export interface JobEvent {
  type: `job.${'completed' | 'failed' | 'cancelled'}`;
  jobId: string;
  ownerId: string;
  status: Job['status'];
  model: string;
  /** The version the job ran, whatever its aliases point at now, and the digest of its files. */
  modelVersion: string;
  modelChecksum: string | null;
  outputUri: string;
  failureUri: string;
  counts: Job['counts'];
  error: JobError | null;
  startedAt: string | null;
  completedAt: string | null;
  executionArn: string | null;
}

export const jobEventOf = (job: Job): JobEvent => ({
  type: job.status === 'completed' || job.status === 'cancelled' ? `job.${job.status}` : 'job.failed',
  jobId: job.jobId,
  ownerId: job.ownerId,
  status: job.status,
  model: job.model,
  modelVersion: job.modelVersion,
  modelChecksum: job.modelChecksum ?? null,
  outputUri: job.outputUri,
  failureUri: job.failureUri,
  counts: job.counts,
  error: job.error ?? null,
  startedAt: job.startedAt ?? null,
  completedAt: job.completedAt ?? null,
  executionArn: job.executionArn ?? null,
});
