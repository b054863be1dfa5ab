/** The job record and the only moves it may make. Pure: no AWS imports. */
import type { WebhookAttempt } from '../webhooks/attempt';
import type { JobOptions } from './job-options';
import type { JobUsage } from './cost';

export const jobStatuses = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof jobStatuses)[number];

/**
 * `S3Object`: one object. `S3Prefix`: every object under the prefix (an `s3Uri` ending in `/`).
 * `ManifestFile`: the objects a SageMaker-style manifest lists.
 */
export type S3DataType = 'S3Object' | 'S3Prefix' | 'ManifestFile';

export type JobInput =
  { type: 'records'; recordCount: number } | { type: 's3'; s3Uri: string; s3DataType: S3DataType };

export type JobSource = 'api' | 's3-drop' | 'retry-failed';

export interface RecordCounts {
  total: number;
  succeeded: number;
  failed: number;
}

export interface JobError {
  code: string;
  message: string;
}

export interface Job {
  jobId: string;
  ownerId: string;
  status: JobStatus;
  model: string;
  modelVersion: string;
  /** Whose registry the version is in (the caller's own, or the shared examples'). */
  modelOwner?: string;
  /** The version's digest, so that a result found a year later says exactly which bytes made it. */
  modelChecksum?: string;
  input: JobInput;
  /** The object the worker reads: the caller's `s3Uri`, or where inline records were stored. */
  inputUri: string;
  outputUri: string;
  failureUri: string;
  counts: RecordCounts;
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
  error?: JobError;
  executionArn?: string;
  webhookUrl?: string;
  /** Standard Webhooks secret (`whsec_…`) the job's webhooks are signed with; shown once, at submit. */
  webhookSecret?: string;
  /** The latest webhook deliveries, newest last. */
  webhookAttempts?: WebhookAttempt[];
  webhookAttemptCount?: number;
  options: JobOptions;
  source: JobSource;
  /** Hash of the request that made the job: a replay with the same idempotency key must match it. */
  requestHash?: string;
  /** For a retry-failed job, the job whose failed records it runs again. */
  parentJobId?: string;
  /** Set when the shards are planned. */
  shardCount?: number;
  /** The input's size, set when the shards are planned: progress is bytes read of it. */
  inputBytes?: number;
  /**
   * False when planning did not count the records (inputs over 64 MiB): `counts.total` is then
   * known only when the job ends, as the sum of what its shards read.
   */
  recordsCounted?: boolean;
  /** When the owner asked to cancel it (absent for a job the reconciler cancelled). */
  cancelRequestedAt?: string;
  /** When the job was last resumed after a failure (POST /jobs/{id}/resume). */
  resumedAt?: string;
  /** For a job cancelled while it ran: the outputs of the shards that had finished. */
  partialOutputs?: string[];
  /** What the job used, recorded when it ends: the instance time of each Batch attempt. */
  usage?: JobUsage;
}

/** The move each status may be reached from: only forward, and cancel only before the end. */
const reachableFrom: Record<JobStatus, readonly JobStatus[]> = {
  pending: [],
  running: ['pending'],
  completed: ['running'],
  failed: ['pending', 'running'],
  cancelled: ['pending', 'running'],
};

export const previousStatusesOf = (target: JobStatus): readonly JobStatus[] => reachableFrom[target];

export const canMove = (from: JobStatus, to: JobStatus): boolean => reachableFrom[to].includes(from);

export const isTerminal = (status: JobStatus): boolean =>
  status === 'completed' || status === 'failed' || status === 'cancelled';

export const emptyCounts = (): RecordCounts => ({ total: 0, succeeded: 0, failed: 0 });
