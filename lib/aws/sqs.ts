import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sqsClient } from './clients';
import { requireEnv, resources } from '../config';
import type { JobMessage, JobQueue, QueueInspector } from '../ports/job-queue';
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

const jobIdIn = (body: string | undefined): string | null => {
  try {
    const parsed = JSON.parse(body ?? '') as { jobId?: unknown };
    return typeof parsed.jobId === 'string' ? parsed.jobId : null;
  } catch {
    return null;
  }
};

/** The jobs queue and its dead-letter queue (`JOBS_DEAD_LETTER_QUEUE_URL`), read for the console. */
export class SqsQueueInspector implements QueueInspector {
  constructor(
    private readonly client: () => SQSClient = sqsClient.get,
    private readonly urls = {
      jobs: resources.jobsQueueUrl,
      deadLetter: () => requireEnv('JOBS_DEAD_LETTER_QUEUE_URL'),
    },
  ) {}

  async depth(queue: 'jobs' | 'deadLetter') {
    const { Attributes = {} } = await this.client().send(
      new GetQueueAttributesCommand({
        QueueUrl: this.urls[queue](),
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  }

  async peekDeadLetters(max: number) {
    const { Messages = [] } = await this.client().send(
      new ReceiveMessageCommand({
        QueueUrl: this.urls.deadLetter(),
        MaxNumberOfMessages: Math.min(10, max),
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
      }),
    );
    return Messages.map((message) => ({
      messageId: message.MessageId ?? '',
      jobId: jobIdIn(message.Body),
      sentAt: message.Attributes?.SentTimestamp
        ? new Date(Number(message.Attributes.SentTimestamp)).toISOString()
        : null,
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    }));
  }
}
