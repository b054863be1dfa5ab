import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { intEnv } from '../lib/config';
import { DynamoJobStore } from '../lib/jobs/job-store';
import type { JobEvent } from '../lib/jobs/run-steps';
import { logger } from '../lib/logger';
import { DynamoWebhookAttemptStore } from '../lib/webhooks/attempt-store';
import { SqsWebhookRedelivery } from '../lib/webhooks/redelivery';
import { WebhookNotDelivered, sendJobWebhook } from '../lib/webhooks/send-job-webhook';
import { webhookPolicyFromEnv } from '../lib/webhooks/target-policy';

const jobs = new DynamoJobStore();
const attempts = new DynamoWebhookAttemptStore();
const redelivery = new SqsWebhookRedelivery();

const jobEventSchema = z.looseObject({
  type: z.enum(['job.completed', 'job.failed', 'job.cancelled']),
  jobId: z.string().min(1),
  completedAt: z.string().nullish(),
});

/** What SNS sends an SQS subscription without raw message delivery. */
const snsEnvelopeSchema = z.object({ Type: z.literal('Notification'), Message: z.string() });

/**
 * The event in a record: raw (RawMessageDelivery) or inside an SNS envelope. Fields past those
 * checked go to the receiver as they came.
 */
const jobEventOf = (body: string): JobEvent => {
  const parsed: unknown = JSON.parse(body);
  const envelope = snsEnvelopeSchema.safeParse(parsed);
  const event = jobEventSchema.parse(envelope.success ? JSON.parse(envelope.data.Message) : parsed);
  return event as unknown as JobEvent;
};

const sendFor = async (record: SQSRecord) => {
  const event = jobEventOf(record.body);
  const outcome = await sendJobWebhook(
    {
      event,
      receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
      receiptHandle: record.receiptHandle,
      queuedAt: new Date(Number(record.attributes.SentTimestamp) || Date.now()),
    },
    {
      jobs,
      attempts,
      redelivery,
      policy: webhookPolicyFromEnv(),
      timeoutMs: intEnv('WEBHOOK_TIMEOUT_MS', 10_000),
    },
  );
  const keys = { jobId: event.jobId, eventType: event.type, messageId: record.messageId };
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

/**
 * Delivers job events (SNS job-events → SQS webhooks) to the jobs' webhook URLs. A failed
 * delivery is reported as a batch item failure after its visibility timeout was set to the
 * backoff's delay, so SQS redelivers it then, and moves it to the DLQ after maxReceiveCount.
 */
export const handler = middy<SQSEvent>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(
    sqsPartialBatchFailure({
      logger: (reason, record) =>
        logger.warn('Webhook not delivered', { reason, messageId: record.messageId }),
    }),
  )
  .handler(async (event) => Promise.allSettled(event.Records.map(sendFor)));
