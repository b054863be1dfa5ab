import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { DynamoWebhookAttemptStore } from '../lib/aws/dynamodb/webhook-attempt-store';
import { SqsWebhookRedelivery } from '../lib/aws/sqs';
import { intEnv } from '../lib/config';
import { sendQueuedJobWebhook } from '../lib/use-cases/send-job-webhook';
import { webhookPolicyFromEnv } from '../lib/webhooks/target-policy';
import { sqsRecordsHandler } from './middleware';

const deps = {
  jobs: new DynamoJobStore(),
  attempts: new DynamoWebhookAttemptStore(),
  redelivery: new SqsWebhookRedelivery(),
};

/**
 * Delivers job events (SNS job-events → SQS webhooks) to the jobs' webhook URLs. A failed
 * delivery is reported as a batch item failure after its visibility timeout was set to the
 * backoff's delay, so SQS redelivers it then, and moves it to the DLQ after maxReceiveCount.
 */
export const handler = sqsRecordsHandler(
  (record) =>
    sendQueuedJobWebhook(
      {
        messageId: record.messageId,
        body: record.body,
        receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
        receiptHandle: record.receiptHandle,
        queuedAt: new Date(Number(record.attributes.SentTimestamp) || Date.now()),
      },
      { ...deps, policy: webhookPolicyFromEnv(), timeoutMs: intEnv('WEBHOOK_TIMEOUT_MS', 10_000) },
    ),
  { message: 'Webhook not delivered', level: 'warn' },
);
