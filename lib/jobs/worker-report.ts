import type { JobError, RecordCounts } from './job';

/** What a worker leaves in S3 for its shard, read by Finalize (counts) and by Fail (the reason). */
export type WorkerReport =
  | { status: 'succeeded'; counts: RecordCounts; executionProvider: string; durationMs: number }
  | { status: 'failed'; error: JobError; counts?: RecordCounts };

/** Error codes a worker reports; the job's `error.code` when it fails for that reason. */
export const workerErrorCodes = {
  inputNotFound: 'INPUT_NOT_FOUND',
  emptyInput: 'EMPTY_INPUT',
  modelNotFound: 'MODEL_NOT_FOUND',
  inferenceFailed: 'INFERENCE_FAILED',
  internal: 'WORKER_ERROR',
} as const;
