import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { WebhookAttempt } from '../../lib/webhooks/attempt';
import { DynamoWebhookAttemptStore } from '../../lib/aws/dynamodb/webhook-attempt-store';
import { setHandlerEnv, testResources } from '../fixtures/env';
import { jobId } from '../fixtures/jobs';

const dynamo = mockClient(DynamoDBDocumentClient);

const anAttempt = (attempt: number, overrides: Partial<WebhookAttempt> = {}): WebhookAttempt => ({
  at: `2025-01-01T00:${String(attempt).padStart(2, '0')}:00.000Z`,
  webhookId: 'msg_0123456789abcdef01234567',
  attempt,
  ok: false,
  status: 500,
  error: 'hooks.example.com answered 500.',
  durationMs: 42,
  ...overrides,
});

const conflict = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('DynamoWebhookAttemptStore', () => {
  const store = new DynamoWebhookAttemptStore();

  beforeEach(() => {
    setHandlerEnv();
    dynamo.reset();
    dynamo.on(UpdateCommand).resolves({});
  });

  it('records the first attempt on a job that has none, with a count of one', async () => {
    dynamo.on(GetCommand).resolves({ Item: { jobId } });

    await store.record(jobId, anAttempt(1));

    expect(dynamo).toHaveReceivedCommandWith(GetCommand, {
      TableName: testResources.jobsTable,
      Key: { jobId },
      ConsistentRead: true,
    });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: testResources.jobsTable,
      Key: { jobId },
      ConditionExpression: 'attribute_exists(jobId) AND attribute_not_exists(webhookAttemptCount)',
      ExpressionAttributeValues: { ':attempts': [anAttempt(1)], ':count': 1 },
    });
  });

  it('keeps the last 20 attempts and counts them all, on condition nobody recorded one meanwhile', async () => {
    const earlier = Array.from({ length: 20 }, (_, i) => anAttempt(i + 5));
    dynamo.on(GetCommand).resolves({ Item: { jobId, webhookAttempts: earlier, webhookAttemptCount: 24 } });

    await store.record(jobId, anAttempt(25));

    const update = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    const written = update?.ExpressionAttributeValues?.[':attempts'] as WebhookAttempt[];
    expect(written).toHaveLength(20);
    expect(written[0]).toEqual(anAttempt(6));
    expect(written.at(-1)).toEqual(anAttempt(25));
    expect(update?.ConditionExpression).toBe('attribute_exists(jobId) AND webhookAttemptCount = :seen');
    expect(update?.ExpressionAttributeValues).toMatchObject({ ':count': 25, ':seen': 24 });
  });

  it('reads again and keeps both attempts when another sender recorded one first', async () => {
    dynamo
      .on(GetCommand)
      .resolvesOnce({ Item: { jobId } })
      .resolves({ Item: { jobId, webhookAttempts: [anAttempt(1)], webhookAttemptCount: 1 } });
    dynamo.on(UpdateCommand).rejectsOnce(conflict()).resolves({});

    await store.record(jobId, anAttempt(1, { ok: true, status: 200, error: undefined }));

    expect(dynamo).toHaveReceivedCommandTimes(GetCommand, 2);
    expect(dynamo).toHaveReceivedNthSpecificCommandWith(2, UpdateCommand, {
      ExpressionAttributeValues: {
        ':attempts': [anAttempt(1), anAttempt(1, { ok: true, status: 200, error: undefined })],
        ':count': 2,
        ':seen': 1,
      },
    });
  });

  it('gives up after three conflicting writes', async () => {
    dynamo.on(GetCommand).resolves({ Item: { jobId } });
    dynamo.on(UpdateCommand).rejects(conflict());

    await expect(store.record(jobId, anAttempt(1))).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(dynamo).toHaveReceivedCommandTimes(UpdateCommand, 3);
  });

  it('leaves a job that is gone alone', async () => {
    dynamo.on(GetCommand).resolves({});

    await store.record(jobId, anAttempt(1));

    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
  });
});
