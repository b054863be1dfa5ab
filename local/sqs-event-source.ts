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
  /** Up to 10,000 (AWS allows more than 10 only with a batching window). */
  batchSize: number;
  /** `maximumBatchingWindow`: how long to gather after the first message (0: invoke at once). */
  batchingWindowSeconds?: number;
  reportBatchItemFailures: boolean;
}

/** Lambda's limit on a synchronous invocation's payload: a batch stops growing at it. */
const maxPayloadBytes = 6 * 1024 * 1024;
/** What one ReceiveMessage returns at most. */
const maxReceive = 10;

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
 * An SQS event source mapping: long-polls the queue and, as Lambda does, gathers a batch until
 * it holds `batchSize` messages, its batching window has passed since the first one, or it
 * nears 6 MB, whichever comes first; invokes the function with it and deletes what succeeded.
 * With ReportBatchItemFailures only the reported messages stay, to come back after the
 * visibility timeout (and reach the DLQ after maxReceiveCount); a thrown error keeps the whole
 * batch. Stopping cuts a window short: what was gathered is still delivered.
 */
export const startSqsEventSource = (
  sqs: SQSClient,
  lambdas: LocalLambdas,
  options: SqsEventSourceOptions,
) => {
  let running = true;
  const abort = new AbortController();
  const windowMs = (options.batchingWindowSeconds ?? 0) * 1000;

  const receive = async (max: number, waitSeconds: number): Promise<Message[]> => {
    try {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: Math.min(maxReceive, max),
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['All'],
        }),
        { abortSignal: abort.signal },
      );
      return received.Messages ?? [];
    } catch {
      if (running) await new Promise((resolve) => setTimeout(resolve, 200));
      return [];
    }
  };

  /** The first messages, then more until the batch is full, the window has passed, or it is stopped. */
  const gather = async (): Promise<Message[]> => {
    const batch = await receive(options.batchSize, 1);
    if (batch.length === 0) return batch;
    const deadline = Date.now() + windowMs;
    let bytes = batch.reduce((sum, m) => sum + Buffer.byteLength(m.Body ?? ''), 0);
    while (running && batch.length < options.batchSize && bytes < maxPayloadBytes) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const more = await receive(options.batchSize - batch.length, 0);
      batch.push(...more);
      bytes += more.reduce((sum, m) => sum + Buffer.byteLength(m.Body ?? ''), 0);
      // An empty queue: look again shortly, not in a busy loop.
      if (more.length === 0) await new Promise((resolve) => setTimeout(resolve, Math.min(100, left)));
    }
    return batch;
  };

  const loop = async () => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queueArn = Attributes?.QueueArn ?? '';
    while (running) {
      const messages = await gather();
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
      // DeleteMessageBatch takes ten at a time.
      for (let start = 0; start < done.length; start += maxReceive) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: done
              .slice(start, start + maxReceive)
              .map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
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
