/** Error codes the worker reports on its shard row; the job's `error.code` when it fails for that reason. */
export const workerErrorCodes = {
  inputNotFound: 'INPUT_NOT_FOUND',
  emptyInput: 'EMPTY_INPUT',
  modelNotFound: 'MODEL_NOT_FOUND',
  inferenceFailed: 'INFERENCE_FAILED',
  internal: 'WORKER_ERROR',
} as const;

/**
 * One line of a `.out.failed` file: the record as it was read (a JSON line, or a CSV row), its
 * line number in the input file, and why it failed. Retry-failed reads `record` back.
 */
export interface FailureLine {
  line: number;
  record: string;
  error: { code: string; message: string };
}
