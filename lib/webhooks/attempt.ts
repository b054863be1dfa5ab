/** What a job records of each webhook delivery attempt. Pure: no AWS imports. */

export interface WebhookAttempt {
  /** When the attempt ended (ISO 8601). */
  at: string;
  /** The `webhook-id` sent: the same for every attempt at one event. */
  webhookId: string;
  /** 1 for the first delivery of the event, 2 for the first retry, … (SQS's receive count). */
  attempt: number;
  ok: boolean;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** Why the attempt failed. */
  error?: string;
  durationMs: number;
}

/** A job keeps its last 20 attempts; `webhookAttemptCount` counts them all. */
export const webhookAttemptsKept = 20;

/** The attempts a job keeps once `attempt` is added: the newest `keep`, oldest first. */
export const withAttempt = (
  attempts: readonly WebhookAttempt[],
  attempt: WebhookAttempt,
  keep = webhookAttemptsKept,
): WebhookAttempt[] => [...attempts, attempt].slice(-keep);
