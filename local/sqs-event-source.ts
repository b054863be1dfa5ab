import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { LocalLambdas } from './lambda-runtime';

export interface SqsEventSourceOptions {
  queueUrl: string;
  functionName: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
}

const toRecord = (message: Message, queueArn: string): SQSRecord => ({
  messageId: message.MessageId ?? '',
  receiptHandle: message.ReceiptHandle ?? '',
  body: message.Body ?? '',
  attributes: (message.Attributes ?? {}) as unknown as SQSRecord['attributes'],
  messageAttributes: {},
  md5OfBody: message.MD5OfBody ?? '',
  eventSource: 'aws:sqs',
  eventSourceARN: queueArn,
  awsRegion: process.env.AWS_REGION ?? 'us-east-1',
});

/**
 * An SQS event source mapping: long-polls the queue, invokes the function with a batch, and
 * deletes what succeeded. With ReportBatchItemFailures only the reported messages stay, to
 * come back after the visibility timeout (and reach the DLQ after maxReceiveCount); a thrown
 * error keeps the whole batch.
 */
export const startSqsEventSource = (
  sqs: SQSClient,
  lambdas: LocalLambdas,
  options: SqsEventSourceOptions,
) => {
  let running = true;
  const abort = new AbortController();

  const loop = async () => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queueArn = Attributes?.QueueArn ?? '';
    while (running) {
      let messages: Message[] = [];
      try {
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: options.batchSize,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        messages = received.Messages ?? [];
      } catch {
        if (!running) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (messages.length === 0) continue;
      let failed = new Set<string>();
      try {
        const response = (await lambdas.invoke(options.functionName, {
          Records: messages.map((m) => toRecord(m, queueArn)),
        })) as SQSBatchResponse | undefined;
        if (options.reportBatchItemFailures) {
          failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        }
      } catch {
        failed = new Set(messages.map((m) => m.MessageId ?? ''));
      }
      const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
      if (done.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
          }),
        );
      }
    }
  };
  const finished = loop();
  return {
    stop: async () => {
      running = false;
      abort.abort();
      await finished.catch(() => undefined);
    },
  };
};
