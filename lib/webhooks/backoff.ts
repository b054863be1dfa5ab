/**
 * When a failed webhook is tried again. The sender sets the message's visibility timeout to
 * this delay, so SQS holds it back; after `webhookMaxAttempts` receives the queue's redrive
 * policy moves it to the dead-letter queue. No AWS imports.
 */
import { intEnv } from '../config';

/** Deliveries of one event, the first included; the queue's maxReceiveCount must be the same. */
export const webhookMaxAttempts = 20;

/** The ceiling of the first wait; each later one doubles it (WEBHOOK_RETRY_BASE_SECONDS overrides, for tests). */
export const retryBaseSeconds = 30;

const baseSeconds = () => intEnv('WEBHOOK_RETRY_BASE_SECONDS', retryBaseSeconds);

/** The longest wait: SQS's limit on a visibility timeout (12 hours). */
export const retryCapSeconds = 43_200;

/** The longest wait after the `receiveCount`-th failed attempt: 30 s, 60 s, 120 s, … up to 12 h. */
export const retryCeilingSeconds = (receiveCount: number): number => {
  const attempt = Number.isFinite(receiveCount) ? Math.max(1, Math.floor(receiveCount)) : 1;
  return Math.min(retryCapSeconds, baseSeconds() * 2 ** (attempt - 1));
};

/**
 * The wait after the `receiveCount`-th failed attempt: exponential with full jitter, a whole
 * number of seconds drawn evenly from 0 to the ceiling, so receivers that failed together
 * are not all retried at once.
 */
export const retryDelaySeconds = (receiveCount: number, random: () => number = Math.random): number => {
  const ceiling = retryCeilingSeconds(receiveCount);
  return Math.min(ceiling, Math.floor(random() * (ceiling + 1)));
};

export interface RetrySchedule {
  /** The wait after each failed attempt but the last, with its ceiling. */
  waits: { afterAttempt: number; ceilingSeconds: number }[];
  /** The total if every wait reaches its ceiling. */
  longestSeconds: number;
  /** The total on average (full jitter: half the ceilings). */
  expectedSeconds: number;
}

/**
 * The whole schedule, for the README: with 20 attempts, 30 s doubling to 12 h, the waits add
 * up to 113 hours at most and about 56 hours on average before the event goes to the DLQ.
 */
export const retrySchedule = (maxAttempts = webhookMaxAttempts): RetrySchedule => {
  const waits = Array.from({ length: Math.max(0, maxAttempts - 1) }, (_, i) => ({
    afterAttempt: i + 1,
    ceilingSeconds: retryCeilingSeconds(i + 1),
  }));
  const longestSeconds = waits.reduce((sum, wait) => sum + wait.ceilingSeconds, 0);
  return { waits, longestSeconds, expectedSeconds: longestSeconds / 2 };
};
