import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sqsClient } from '../aws/clients';
import { resources } from '../config';

export interface JobMessage {
  jobId: string;
}

export interface JobQueue {
  enqueue(message: JobMessage): Promise<void>;
}

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
