import { z } from 'zod';
import { InvalidInput, LongtailError } from '../errors';
import type { JobStore } from '../ports/job-store';
import type { JobEvent } from '../domain/job-event';
import { logger } from '../logger';
import type { WebhookAttempt } from '../webhooks/attempt';
import type { WebhookAttemptStore } from '../ports/webhook-attempt-store';
import { retryDelaySeconds, webhookMaxAttempts } from '../webhooks/backoff';
import { deliverWebhook } from '../webhooks/deliver';
import type { DeliveryResult, WebhookRequest } from '../webhooks/deliver';
import type { WebhookRedelivery } from '../ports/webhook-redelivery';
import { signWebhook, webhookIdOf } from '../webhooks/signing';
import { checkWebhookUrl } from '../webhooks/target-policy';
import type { WebhookTargetPolicy } from '../webhooks/target-policy';

/** A job event as the webhooks queue hands it over. */
export interface QueuedJobEvent {
  event: JobEvent;
  /** SQS's ApproximateReceiveCount: 1 on the first delivery, 2 on the first retry, … */
  receiveCount: number;
  receiptHandle: string;
  /** When the event was queued; the payload's timestamp when the event has no completedAt. */
  queuedAt: Date;
}

export interface WebhookSenderDeps {
  jobs: Pick<JobStore, 'get'>;
  attempts: WebhookAttemptStore;
  redelivery: WebhookRedelivery;
  policy: WebhookTargetPolicy;
  timeoutMs?: number;
  deliver?: (request: WebhookRequest) => Promise<DeliveryResult>;
  now?: () => Date;
  random?: () => number;
}

export type WebhookOutcome =
  | { result: 'skipped'; reason: string }
  | { result: 'delivered'; attempt: WebhookAttempt }
  /** The URL breaks the target policy: recorded, not retried (it will not get better). */
  | { result: 'refused'; attempt: WebhookAttempt }
  | { result: 'retrying'; attempt: WebhookAttempt; retryInSeconds: number }
  /** The last attempt failed: the message goes to the dead-letter queue. */
  | { result: 'exhausted'; attempt: WebhookAttempt };

/** A webhook that was not delivered this time; its message is reported failed so SQS redelivers it. */
export class WebhookNotDelivered extends LongtailError {
  override name = 'WebhookNotDelivered';
}

/**
 * The body a receiver gets, in the Standard Webhooks payload shape: the event's type, when it
 * happened, and the job event as `data`. The same for every attempt.
 */
export const webhookBodyOf = (event: JobEvent, queuedAt: Date): string =>
  JSON.stringify({ type: event.type, timestamp: event.completedAt ?? queuedAt.toISOString(), data: event });

/** Recording is for the user's eyes: a delivered webhook is not sent again because a write failed. */
const recordQuietly = async (store: WebhookAttemptStore, jobId: string, attempt: WebhookAttempt) => {
  try {
    await store.record(jobId, attempt);
  } catch (error) {
    logger.error('Webhook attempt not recorded', {
      jobId,
      webhookId: attempt.webhookId,
      error: error as Error,
    });
  }
};

/**
 * Sends a job's event to its webhookUrl, signed with the job's secret, and records the
 * attempt on the job. A failed attempt holds the message back for the backoff's delay; the
 * last one lets it go to the dead-letter queue at once. Jobs without a webhook are skipped, and
 * so is an event the job has already seen delivered.
 */
export const sendJobWebhook = async (
  message: QueuedJobEvent,
  deps: WebhookSenderDeps,
): Promise<WebhookOutcome> => {
  const { event, receiveCount } = message;
  const job = await deps.jobs.get(event.jobId);
  if (!job) return { result: 'skipped', reason: 'The job does not exist.' };
  if (!job.webhookUrl) return { result: 'skipped', reason: 'The job has no webhookUrl.' };
  if (!job.webhookSecret) return { result: 'skipped', reason: 'The job has no webhook secret.' };
  const webhookId = webhookIdOf(job.jobId, event.type);
  if (job.webhookAttempts?.some((attempt) => attempt.ok && attempt.webhookId === webhookId)) {
    return { result: 'skipped', reason: 'The event was already delivered.' };
  }
  const now = deps.now ?? (() => new Date());

  let result: DeliveryResult;
  let refused = false;
  try {
    checkWebhookUrl(job.webhookUrl, deps.policy);
    const body = webhookBodyOf(event, message.queuedAt);
    const headers = signWebhook({
      id: webhookId,
      timestamp: Math.floor(now().getTime() / 1000),
      body,
      secret: job.webhookSecret,
    });
    result = await (deps.deliver ?? deliverWebhook)({
      url: job.webhookUrl,
      body,
      headers,
      policy: deps.policy,
      ...(deps.timeoutMs === undefined ? {} : { timeoutMs: deps.timeoutMs }),
    });
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    refused = true;
    result = { ok: false, error: error.message, durationMs: 0 };
  }

  const attempt: WebhookAttempt = {
    at: now().toISOString(),
    webhookId,
    attempt: receiveCount,
    ok: result.ok,
    ...(result.status === undefined ? {} : { status: result.status }),
    ...(result.error === undefined ? {} : { error: result.error }),
    durationMs: result.durationMs,
  };
  await recordQuietly(deps.attempts, job.jobId, attempt);

  if (result.ok) return { result: 'delivered', attempt };
  if (refused) return { result: 'refused', attempt };
  if (receiveCount >= webhookMaxAttempts) {
    await deps.redelivery.retryAfter(message.receiptHandle, 0);
    return { result: 'exhausted', attempt };
  }
  const retryInSeconds = retryDelaySeconds(receiveCount, deps.random);
  await deps.redelivery.retryAfter(message.receiptHandle, retryInSeconds);
  return { result: 'retrying', attempt, retryInSeconds };
};

const jobEventSchema = z.looseObject({
  type: z.enum(['job.completed', 'job.failed', 'job.cancelled']),
  jobId: z.string().min(1),
  completedAt: z.string().nullish(),
});

/** What SNS sends an SQS subscription without raw message delivery. */
const snsEnvelopeSchema = z.object({ Type: z.literal('Notification'), Message: z.string() });

/**
 * The event in a queue message: raw (RawMessageDelivery) or inside an SNS envelope. Fields past
 * those checked go to the receiver as they came.
 */
export const jobEventOfMessage = (body: string): JobEvent => {
  const parsed: unknown = JSON.parse(body);
  const envelope = snsEnvelopeSchema.safeParse(parsed);
  const event = jobEventSchema.parse(envelope.success ? JSON.parse(envelope.data.Message) : parsed);
  return event as unknown as JobEvent;
};

/** A message of the webhooks queue, as the queue's consumer receives it. */
export interface WebhookMessage {
  messageId: string;
  body: string;
  receiveCount: number;
  receiptHandle: string;
  queuedAt: Date;
}

/**
 * Delivers the job event in one queue message. An attempt that failed throws
 * `WebhookNotDelivered`, so that the consumer reports the message failed: the queue then
 * delivers it again after the backoff's delay, or moves it to the dead-letter queue after the last.
 */
export const sendQueuedJobWebhook = async (message: WebhookMessage, deps: WebhookSenderDeps) => {
  const event = jobEventOfMessage(message.body);
  const outcome = await sendJobWebhook({ ...message, event }, deps);
  const keys = { jobId: event.jobId, eventType: event.type, messageId: message.messageId };
  switch (outcome.result) {
    case 'skipped':
      logger.info('Webhook skipped', { ...keys, reason: outcome.reason });
      return;
    case 'delivered':
      logger.info('Webhook delivered', { ...keys, ...outcome.attempt });
      return;
    case 'refused':
      logger.warn('Webhook URL refused; not retried', { ...keys, ...outcome.attempt });
      return;
    case 'retrying':
      throw new WebhookNotDelivered(
        'WEBHOOK_NOT_DELIVERED',
        `Attempt ${outcome.attempt.attempt} failed (${outcome.attempt.error}); retrying in ${outcome.retryInSeconds} s.`,
        outcome.attempt,
      );
    case 'exhausted':
      throw new WebhookNotDelivered(
        'WEBHOOK_NOT_DELIVERED',
        `Attempt ${outcome.attempt.attempt}, the last, failed (${outcome.attempt.error}); the event goes to the dead-letter queue.`,
        outcome.attempt,
      );
  }
};
