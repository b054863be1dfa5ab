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

/**
 * A failure line of a shard that is not its file's first, renumbered from the shard's own lines
 * (1 at its first byte) to the file's: `linesBefore` is the newlines in the file before the shard.
 * A decoding error names the line in its message ("Line 3: …"), so that number moves too.
 */
export const renumberFailureLine = (text: string, linesBefore: number): string => {
  if (linesBefore === 0 || text.trim() === '') return text;
  const failed = JSON.parse(text) as FailureLine;
  const line = failed.line + linesBefore;
  const message = failed.error.message.replace(/^Line (\d+):/, (_match, shardLine: string) =>
    Number(shardLine) === failed.line ? `Line ${line}:` : _match,
  );
  const newline = text.endsWith('\n') ? '\n' : '';
  return `${JSON.stringify({ ...failed, line, error: { ...failed.error, message } })}${newline}`;
};
