/**
 * Typed errors with stable names. The names are API: the HTTP middleware maps them to status
 * codes, the state machine's Retry/Catch match on them, and `code` is what callers see.
 */
export class LongtailError extends Error {
  readonly code: string;
  readonly details?: unknown;

  constructor(code: string, message: string, details?: unknown) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

export class InvalidInput extends LongtailError {
  override name = 'InvalidInput';
}

export class Unauthorized extends LongtailError {
  override name = 'Unauthorized';
  constructor(message = 'A valid API key is required: send it as "Authorization: Bearer <key>".') {
    super('UNAUTHORIZED', message);
  }
}

export class Forbidden extends LongtailError {
  override name = 'Forbidden';
}

export class NotFound extends LongtailError {
  override name = 'NotFound';
}

export class Conflict extends LongtailError {
  override name = 'Conflict';
}

export class PayloadTooLarge extends LongtailError {
  override name = 'PayloadTooLarge';
}

/** A job moved from a state that no longer holds: someone else moved it first. */
export class TransitionRejected extends LongtailError {
  override name = 'TransitionRejected';
}

/** Every record of a job failed: there is nothing to call a result. */
export class AllRecordsFailed extends LongtailError {
  override name = 'AllRecordsFailed';
}

/**
 * The job is no longer pending when its execution comes to run it: cancelled, run by another
 * execution, ended some other way, or gone.
 */
export class JobNotRunnable extends LongtailError {
  override name = 'JobNotRunnable';
}

/** A job that cannot run at all (no input, wrong format, nothing in it): the reason is in its report. */
export class JobCannotRun extends LongtailError {
  override name = 'JobCannotRun';
}

/** More records failed than the job's maxFailedRecordsPercent allows. */
export class TooManyFailedRecords extends LongtailError {
  override name = 'TooManyFailedRecords';
}

export const httpStatusOf = (error: unknown): number => {
  if (error instanceof InvalidInput) return 400;
  if (error instanceof Unauthorized) return 401;
  if (error instanceof Forbidden) return 403;
  if (error instanceof NotFound) return 404;
  if (error instanceof Conflict || error instanceof TransitionRejected) return 409;
  if (error instanceof PayloadTooLarge) return 413;
  return 500;
};

/** Step Functions refused to redrive an execution (running, succeeded, or past its redrive period). */
export class ExecutionNotRedrivable extends LongtailError {
  override name = 'ExecutionNotRedrivable';
}
