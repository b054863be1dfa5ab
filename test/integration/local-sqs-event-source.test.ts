import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsEndpoint } from '../../local/aws-endpoint';
import type { AwsEndpoint } from '../../local/aws-endpoint';
import type { LocalLambdas } from '../../local/lambda-runtime';
import { startSqsEventSource } from '../../local/sqs-event-source';
import { loadServerlessConfig, resolveParam } from '../../local/serverless-config';
import { queueNotificationsOf } from '../../local/s3-notifications';

/**
 * The local SQS event source against the SQS emulator: batches are gathered as Lambda gathers
 * them, up to the batch size (beyond ReceiveMessage's ten) within the batching window.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'longtail-sqs-source-'));
let endpoint: AwsEndpoint;
let sqs: SQSClient;

beforeAll(async () => {
  endpoint = await startAwsEndpoint({ host: '127.0.0.1', port: 0, dataDir, services: {} });
  sqs = new SQSClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  sqs.destroy();
  await endpoint.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

let queues = 0;
/** A new queue holding `count` messages, body `0` … `count - 1`. */
const queueWith = async (count: number) => {
  const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: `source-${++queues}` }));
  for (let start = 0; start < count; start += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: Math.min(10, count - start) }, (_, i) => ({
          Id: String(i),
          MessageBody: String(start + i),
        })),
      }),
    );
  }
  return QueueUrl;
};

/** Records each invocation's bodies; every message succeeds. */
const recordingLambdas = () => {
  const batches: string[][] = [];
  const lambdas = {
    invoke: async (_name: string, event: unknown) => {
      batches.push((event as SQSEvent).Records.map((r) => r.body));
      return { batchItemFailures: [] };
    },
  } as unknown as LocalLambdas;
  return { batches, lambdas };
};

const delivered = (batches: string[][]) =>
  batches
    .flat()
    .map(Number)
    .sort((a, b) => a - b);
const waitFor = async (done: () => boolean) => {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 50));
};

describe('the local SQS event source', () => {
  it('gathers 25 waiting messages into one invocation when the batch size allows, and deletes them', async () => {
    const queueUrl = await queueWith(25);
    const { batches, lambdas } = recordingLambdas();

    const source = startSqsEventSource(sqs, lambdas, {
      queueUrl,
      functionName: 'f',
      batchSize: 10_000,
      batchingWindowSeconds: 1,
      reportBatchItemFailures: true,
    });
    await waitFor(() => batches.length > 0);
    await source.stop();

    expect(batches.map((b) => b.length)).toEqual([25]);
    expect(delivered(batches)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(Attributes).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it('stops a batch at the batch size, and still delivers the rest once the window has passed', async () => {
    const queueUrl = await queueWith(25);
    const { batches, lambdas } = recordingLambdas();

    const source = startSqsEventSource(sqs, lambdas, {
      queueUrl,
      functionName: 'f',
      batchSize: 12,
      batchingWindowSeconds: 1,
      reportBatchItemFailures: true,
    });
    await waitFor(() => batches.flat().length === 25);
    await source.stop();

    expect(batches.map((b) => b.length)).toEqual([12, 12, 1]);
    expect(delivered(batches)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it('delivers what it gathered when stopped in the middle of a window', async () => {
    const queueUrl = await queueWith(3);
    const { batches, lambdas } = recordingLambdas();

    const source = startSqsEventSource(sqs, lambdas, {
      queueUrl,
      functionName: 'f',
      batchSize: 10_000,
      batchingWindowSeconds: 300,
      reportBatchItemFailures: true,
    });
    // Long before the window ends: the three messages are gathered and waiting for more.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await source.stop();

    expect(delivered(batches)).toEqual([0, 1, 2]);
  });
});

describe('the drop settings serverless.yml gives the local runtime', () => {
  const config = loadServerlessConfig();

  it('sends the inputs bucket’s drop/ events to the drops queue, which s3Drop reads with a window', () => {
    const bucket = config.resources.Resources.InputsBucket?.Properties?.NotificationConfiguration;
    expect(queueNotificationsOf(bucket as never)).toEqual([
      { queue: 'DropsQueue', event: 's3:ObjectCreated:*', prefix: 'drop/', suffix: '' },
    ]);
    const source = config.functions.s3Drop?.events?.find((e) => e.sqs)?.sqs;
    const params = { ...config.params?.default };
    expect(resolveParam(source?.batchSize, params)).toBe(10_000);
    expect(resolveParam(source?.maximumBatchingWindow, params)).toBe(20);
    expect(resolveParam(source?.maximumBatchingWindow, { ...params, dropBatchWindowSeconds: '5' })).toBe(5);
  });

  it('refuses a parameter that is not a number', () => {
    expect(() => resolveParam('${param:missing}', {})).toThrow('${param:missing} is not a number');
    expect(() => resolveParam('${param:x}', { x: 'soon' })).toThrow('is not a number');
  });
});
