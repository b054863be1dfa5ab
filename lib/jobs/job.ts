/** The job record and the only moves it may make. Pure: no AWS imports. */

export const jobStatuses = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof jobStatuses)[number];

export type JobInput = { type: 'records'; recordCount: number } | { type: 's3'; s3Uri: string };

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
