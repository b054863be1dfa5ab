import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sqsClient } from '../aws/clients';
import { requireEnv } from '../config';

export interface WebhookRedelivery {
  /** Holds the message back for `delaySeconds`; SQS delivers it again after that. */
  retryAfter(receiptHandle: string, delaySeconds: number): Promise<void>;
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
