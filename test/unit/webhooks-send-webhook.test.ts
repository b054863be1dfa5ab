import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/send-webhook';
import type { Job } from '../../lib/domain/job';
import type { WebhookAttempt } from '../../lib/webhooks/attempt';
import { webhookIdOf } from '../../lib/webhooks/signing';
import { setHandlerEnv, testResources } from '../fixtures/env';
import { jobId, storedJob } from '../fixtures/jobs';
import { lambdaContext } from '../fixtures/lambda-context';
import {
  aJobEvent,
  aWebhookJob,
  signedPerSpec,
  snsEnvelopeOf,
  startReceiver,
  webhookRecord,
  webhookSecret,
} from '../fixtures/webhooks';
import type { Receiver } from '../fixtures/webhooks';

const dynamo = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);

const webhooksQueueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/longtail-test-webhooks';
const webhookId = webhookIdOf(jobId, 'job.completed');

const send = async (...records: SQSEvent['Records']) =>
  (await handler({ Records: records }, lambdaContext('longtail-test-sendWebhook'))) as SQSBatchResponse;

/** The attempts the handler wrote to the job, in order. */
const recordedAttempts = (): WebhookAttempt[] =>
  dynamo
    .commandCalls(UpdateCommand)
    .flatMap(
      (call) => (call.args[0].input as UpdateCommandInput).ExpressionAttributeValues?.[':attempts'] ?? [],
    )
    .slice(-1);

describe('send-webhook handler', () => {
  let receiver: Receiver;
  let job: Job & { webhookSecret?: string };

  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  beforeEach(() => {
    setHandlerEnv({
      WEBHOOKS_QUEUE_URL: webhooksQueueUrl,
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      WEBHOOK_TIMEOUT_MS: '2000',
    });
    receiver.requests.length = 0;
    receiver.respondWith((_request, response) => response.writeHead(200).end());
    job = aWebhookJob({ webhookUrl: receiver.url(), webhookSecret });
    dynamo.reset();
    sqs.reset();
    dynamo.on(GetCommand).callsFake(() => ({ Item: storedJob(job) }));
    dynamo.on(UpdateCommand).resolves({});
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('delivers the signed event and records the attempt, leaving the message to be deleted', async () => {
    const event = aJobEvent(job);

    const result = await send(webhookRecord('m-1', JSON.stringify(event)));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(JSON.parse(request?.body ?? '')).toEqual({
      type: 'job.completed',
      timestamp: '2025-01-01T00:05:00.000Z',
      data: event,
    });
    expect(request?.headers['webhook-id']).toBe(webhookId);
    expect(signedPerSpec(webhookSecret, request?.headers ?? {}, request?.body ?? '')).toBe(true);
    expect(recordedAttempts()).toEqual([
      {
        at: expect.any(String),
        webhookId,
        attempt: 1,
        ok: true,
        status: 200,
        durationMs: expect.any(Number),
      },
    ]);
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: testResources.jobsTable,
      Key: { jobId },
      ExpressionAttributeValues: expect.objectContaining({ ':count': 1 }),
    });
    expect(sqs).not.toHaveReceivedCommand(ChangeMessageVisibilityCommand);
  });

  it('records a 500, holds the message back for the backoff delay and reports it failed', async () => {
    receiver.respondWith((_request, response) => response.writeHead(500).end());

    const result = await send(webhookRecord('m-1', JSON.stringify(aJobEvent(job)), 3));

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(recordedAttempts()).toEqual([
      {
        at: expect.any(String),
        webhookId,
        attempt: 3,
        ok: false,
        status: 500,
        error: '127.0.0.1 answered 500.',
        durationMs: expect.any(Number),
      },
    ]);
    // Third attempt: a ceiling of 120 s, half of it with the draw fixed at 0.5.
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      QueueUrl: webhooksQueueUrl,
      ReceiptHandle: 'receipt-m-1',
      VisibilityTimeout: 60,
    });
  });

  it('lets the last failed attempt go to the dead-letter queue at once', async () => {
    receiver.respondWith((_request, response) => response.writeHead(503).end());

    const result = await send(webhookRecord('m-1', JSON.stringify(aJobEvent(job)), 20));

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { VisibilityTimeout: 0 });
  });

  it('sends the same webhook-id and body on a retry, signed again', async () => {
    receiver.respondWith((_request, response) => response.writeHead(500).end());
    const body = JSON.stringify(aJobEvent(job));
    await send(webhookRecord('m-1', body, 1));
    receiver.respondWith((_request, response) => response.writeHead(200).end());

    const result = await send(webhookRecord('m-1', body, 2));

    expect(result).toEqual({ batchItemFailures: [] });
    const [first, second] = receiver.requests;
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    expect(second?.body).toBe(first?.body);
    expect(signedPerSpec(webhookSecret, second?.headers ?? {}, second?.body ?? '')).toBe(true);
  });

  it('unwraps an event that arrives in an SNS envelope', async () => {
    const event = aJobEvent(job);

    const result = await send(webhookRecord('m-1', snsEnvelopeOf(event)));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(JSON.parse(receiver.requests[0]?.body ?? '')).toMatchObject({
      type: 'job.completed',
      data: event,
    });
  });

  it('skips a job without a webhook: nothing sent, nothing recorded, nothing retried', async () => {
    job = aWebhookJob({ webhookUrl: undefined, webhookSecret: undefined });

    const result = await send(webhookRecord('m-1', JSON.stringify(aJobEvent(job))));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(receiver.requests).toHaveLength(0);
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
    expect(sqs).not.toHaveReceivedCommand(ChangeMessageVisibilityCommand);
  });

  it('skips a job whose webhook has no secret to sign with, and a job that is gone', async () => {
    job = aWebhookJob({ webhookUrl: receiver.url() });
    const withoutSecret = await send(webhookRecord('m-1', JSON.stringify(aJobEvent(job))));
    dynamo.on(GetCommand).resolves({});
    const gone = await send(webhookRecord('m-2', JSON.stringify(aJobEvent(job))));

    expect([withoutSecret, gone]).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(receiver.requests).toHaveLength(0);
  });

  it('does not send again an event the job records as delivered (an SNS duplicate)', async () => {
    job = aWebhookJob({
      webhookUrl: receiver.url(),
      webhookSecret,
      webhookAttempts: [
        { at: '2025-01-01T00:05:02.000Z', webhookId, attempt: 1, ok: true, status: 200, durationMs: 12 },
      ],
    });

    const result = await send(webhookRecord('m-dup', JSON.stringify(aJobEvent(job))));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(receiver.requests).toHaveLength(0);
  });

  it('records a URL the policy refuses and does not retry it', async () => {
    setHandlerEnv({ WEBHOOK_ALLOW_HTTP: 'false' });

    const result = await send(webhookRecord('m-1', JSON.stringify(aJobEvent(job))));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(receiver.requests).toHaveLength(0);
    expect(recordedAttempts()).toEqual([
      expect.objectContaining({ ok: false, error: expect.stringMatching(/https/) }),
    ]);
    expect(sqs).not.toHaveReceivedCommand(ChangeMessageVisibilityCommand);
  });

  it('counts a delivery as done even when its attempt cannot be recorded', async () => {
    dynamo.on(UpdateCommand).rejects(new Error('Throughput exceeded'));

    const result = await send(webhookRecord('m-1', JSON.stringify(aJobEvent(job))));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(receiver.requests).toHaveLength(1);
  });

  it('reports only the messages that failed: an unreadable one and an undelivered one', async () => {
    const failing = aWebhookJob({ jobId: 'job-failing', webhookUrl: receiver.url('/broken'), webhookSecret });
    dynamo.on(GetCommand, { Key: { jobId: 'job-failing' } }).resolves({ Item: storedJob(failing) });
    receiver.respondWith((request, response) =>
      response.writeHead(request.path === '/broken' ? 502 : 200).end(),
    );

    const result = await send(
      webhookRecord('m-ok', JSON.stringify(aJobEvent(job))),
      webhookRecord('m-bad', 'not json'),
      webhookRecord('m-other', JSON.stringify({ type: 'job.started', jobId })),
      webhookRecord('m-failing', JSON.stringify(aJobEvent(failing))),
    );

    expect(result.batchItemFailures).toEqual([
      { itemIdentifier: 'm-bad' },
      { itemIdentifier: 'm-other' },
      { itemIdentifier: 'm-failing' },
    ]);
    expect(sqs).toHaveReceivedCommandTimes(ChangeMessageVisibilityCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      ReceiptHandle: 'receipt-m-failing',
    });
  });
});
