import type { WebhookAttempt } from '../webhooks/attempt';

export interface WebhookAttemptStore {
  /** Adds an attempt to the job's `webhookAttempts`, keeping the last 20; a job that is gone is left gone. */
  record(jobId: string, attempt: WebhookAttempt): Promise<void>;
}
