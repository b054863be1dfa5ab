import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sqsClient } from './clients';
import { requireEnv, resources } from '../config';
import type { JobMessage, JobQueue } from '../ports/job-queue';
import type { WebhookRedelivery } from '../ports/webhook-redelivery';

/** Sends a job's id to the jobs queue, which dispatch reads. */
export class SqsJobQueue implements JobQueue {
  constructor(
    private readonly client: () => SQSClient = sqsClient.get,
    private readonly queueUrl: () => string = resources.jobsQueueUrl,
  ) {}

  async enqueue(message: JobMessage): Promise<void> {
    await this.client().send(
      new SendMessageCommand({ QueueUrl: this.queueUrl(), MessageBody: JSON.stringify(message) }),
    );
  }
}

/** Sets the visibility timeout of a message of the webhooks queue (`WEBHOOKS_QUEUE_URL`). */
export class SqsWebhookRedelivery implements WebhookRedelivery {
  constructor(
    private readonly client: () => SQSClient = sqsClient.get,
    private readonly queueUrl: () => string = () => requireEnv('WEBHOOKS_QUEUE_URL'),
  ) {}

  async retryAfter(receiptHandle: string, delaySeconds: number): Promise<void> {
    await this.client().send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl(),
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: delaySeconds,
      }),
    );
  }
}
