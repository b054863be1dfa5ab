/**
 * What the CLI tells a user when it cannot do what was asked: one message, and the exit code a
 * script can rely on. Anything else thrown is a bug and still prints one line, never a stack.
 */
export const exitCodes = {
  completed: 0,
  /** The CLI could not do it: bad input, an API error, the API or S3 unreachable. */
  error: 1,
  jobFailed: 2,
  jobCancelled: 3,
  /** `--timeout` passed while the job was still running; it keeps running. */
  timedOut: 4,
  /** Ctrl-C while watching; the job keeps running. */
  interrupted: 130,
} as const;

export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = exitCodes.error,
  ) {
    super(message);
  }
}
