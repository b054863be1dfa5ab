import type { JobError } from './job';

/** Why a job could not run at all, left by planning in work/<jobId>/report.json for Fail to read. */
export type WorkerReport = { status: 'failed'; error: JobError; counts?: undefined };

/** Error codes the worker reports on its shard row; the job's `error.code` when it fails for that reason. */
export const workerErrorCodes = {
  inputNotFound: 'INPUT_NOT_FOUND',
  emptyInput: 'EMPTY_INPUT',
  modelNotFound: 'MODEL_NOT_FOUND',
  inferenceFailed: 'INFERENCE_FAILED',
  internal: 'WORKER_ERROR',
} as const;
