import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack } from '../../local/stack';
import type { LocalStack, LocalStackOptions } from '../../local/stack';

export const apiKeys = { alice: 'alice-test-key', bob: 'bob-test-key' };

/** A local stack on free ports with a scratch data folder, plus clients and helpers for tests. */
export class TestStack {
  stack!: LocalStack;
  s3!: S3Client;
  sqs!: SQSClient;
  sns!: SNSClient;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'longtail-test-'));
  private eventsQueueUrl = '';

  async start(options: LocalStackOptions = {}) {
    this.stack = await startLocalStack({
      apiPort: 0,
      awsPort: 0,
      dataDir: this.dataDir,
      apiKeys: `alice:${apiKeys.alice},bob:${apiKeys.bob}`,
      ...options,
    });
    const aws = { endpoint: this.stack.awsEndpoint, region: this.stack.region };
    this.s3 = new S3Client({ ...aws, forcePathStyle: true });
    this.sqs = new SQSClient(aws);
    this.sns = new SNSClient(aws);
    return this;
  }

  /** Subscribes a queue to job-events, as an operator would, so tests can read the events. */
  async listenToJobEvents() {
    const { QueueUrl = '' } = await this.sqs.send(
      new CreateQueueCommand({ QueueName: `test-events-${Date.now()}` }),
    );
    const { Attributes } = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await this.sns.send(
      new SubscribeCommand({
        TopicArn: this.stack.names.jobEventsTopicArn,
        Protocol: 'sqs',
        Endpoint: Attributes?.QueueArn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    this.eventsQueueUrl = QueueUrl;
  }

  private seenEvents: Record<string, unknown>[] = [];

  /** Every job-events message for `jobId` that arrives within `windowMs`. */
  async jobEvents(jobId: string, windowMs: number): Promise<Record<string, unknown>[]> {
    await this.jobEvent(`${jobId}\u0000none`, windowMs);
    return this.seenEvents.filter((event) => event.jobId === jobId);
  }

  /** The job-events message for `jobId`, waiting up to `timeoutMs` for it. */
  async jobEvent(jobId: string, timeoutMs = 10_000): Promise<Record<string, unknown> | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.seenEvents.find((event) => event.jobId === jobId);
      if (found) return found;
      const { Messages = [] } = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.eventsQueueUrl,
          WaitTimeSeconds: 1,
          MaxNumberOfMessages: 10,
        }),
      );
      for (const message of Messages) {
        this.seenEvents.push(JSON.parse(message.Body ?? '{}') as Record<string, unknown>);
        await this.sqs.send(
          new DeleteMessageCommand({ QueueUrl: this.eventsQueueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
    return undefined;
  }

  async putInput(key: string, body: string | Uint8Array, contentType?: string) {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.stack.names.inputsBucket,
        Key: key,
        Body: body,
        ...(contentType ? { ContentType: contentType } : {}),
      }),
    );
    return `s3://${this.stack.names.inputsBucket}/${key}`;
  }

  async readObject(uri: string): Promise<string> {
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri) ?? [];
    const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await Body?.transformToString()) ?? '';
  }

  async readJsonLines<T>(uri: string): Promise<T[]> {
    return (await this.readObject(uri))
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as T);
  }

  async api(
    path: string,
    init: { method?: string; key?: string | null; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...init.headers };
    const key = init.key === undefined ? apiKeys.alice : init.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (init.body !== undefined) {
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.stack.apiUrl}${path}`, {
      method: init.method ?? 'GET',
      headers,
      body,
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return {
      status: response.status,
      headers: response.headers,
      json: json as Record<string, unknown> & { error?: { code: string; message: string } },
      text,
    };
  }

  /** Polls GET /jobs/{id} until the job ends. */
  async waitForJob(jobId: string, key = apiKeys.alice, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { json } = await this.api(`/jobs/${jobId}`, { key });
      if (['completed', 'failed', 'cancelled'].includes(String(json.status)))
        return json as unknown as JobStatusView;
      if (Date.now() > deadline)
        throw new Error(`Job ${jobId} still ${String(json.status)} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async stop() {
    for (const client of [this.s3, this.sqs, this.sns]) client?.destroy();
    await this.stack?.stop();
  }

  cleanUp() {
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export interface JobStatusView {
  jobId: string;
  status: string;
  model: string;
  outputUri: string;
  failureUri: string;
  counts: { total: number; succeeded: number; failed: number };
  error: { code: string; message: string } | null;
  executionArn: string | null;
  startedAt: string | null;
  completedAt: string | null;
}

/**
 * A TestStack started before the enclosing describe's tests (then `prepare`, e.g. to listen to
 * job events) and stopped, its data folder removed, after them.
 */
export const useLocalStack = (
  prepare?: (local: TestStack) => Promise<void>,
  options: LocalStackOptions = {},
): TestStack => {
  const local = new TestStack();
  beforeAll(async () => {
    await local.start(options);
    await prepare?.(local);
  });
  afterAll(async () => {
    await local.stop();
    local.cleanUp();
  });
  return local;
};
