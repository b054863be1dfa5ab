import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoShardProgressStore, shardProgressIndex } from '../../lib/aws/dynamodb/shard-progress-store';
import { summarizeShards } from '../../lib/domain/shard-progress';
import { setHandlerEnv, testResources } from '../fixtures/env';
import { aShardProgress, storedShardRow } from '../fixtures/jobs';

const dynamo = mockClient(DynamoDBDocumentClient);

describe('summarizeShards', () => {
  it('counts shards by status, those with no row yet as pending, and sums their records', () => {
    const rows = [
      aShardProgress({ index: 0, status: 'succeeded', succeeded: 90, failed: 10, bytes: 9_000 }),
      aShardProgress({ index: 1, status: 'running', succeeded: 40, failed: 2, bytes: 4_200 }),
      aShardProgress({ index: 4, status: 'failed', succeeded: 5, failed: 50 }),
    ];

    expect(summarizeShards(rows, 6)).toEqual({
      shards: { total: 6, pending: 3, running: 1, succeeded: 1, failed: 1, stopped: 0 },
      succeeded: 135,
      failed: 62,
      bytes: 13_200,
    });
  });

  it('counts the shards of an ended job that had not finished as stopped, none pending or running', () => {
    const rows = [
      aShardProgress({ index: 0, status: 'succeeded', succeeded: 90, failed: 10 }),
      aShardProgress({ index: 1, status: 'running', succeeded: 40, failed: 2 }),
    ];

    expect(summarizeShards(rows, 4, true)).toEqual({
      shards: { total: 4, pending: 0, running: 0, succeeded: 1, failed: 0, stopped: 3 },
      succeeded: 130,
      failed: 12,
      bytes: 0,
    });
  });

  it('says every shard is pending before any has reported', () => {
    expect(summarizeShards([], 3)).toEqual({
      shards: { total: 3, pending: 3, running: 0, succeeded: 0, failed: 0, stopped: 0 },
      succeeded: 0,
      failed: 0,
      bytes: 0,
    });
  });
});

describe('DynamoShardProgressStore', () => {
  const store = new DynamoShardProgressStore();

  beforeEach(() => {
    setHandlerEnv();
    dynamo.reset();
    dynamo.on(PutCommand).resolves({});
  });

  it('puts the shard row under <jobId>#shard#<index>, indexed by its job, expiring with it', async () => {
    const progress = aShardProgress({
      index: 3,
      status: 'running',
      attempt: 2,
      processed: 10,
      succeeded: 9,
      failed: 1,
    });
    const before = Math.floor(Date.now() / 1000);

    await store.report('job-1', progress);

    const put = dynamo.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put?.TableName).toBe(testResources.jobsTable);
    expect(put?.Item).toEqual({
      jobId: 'job-1#shard#3',
      shardOf: 'job-1',
      shardIndex: 3,
      ...progress,
      expiresAt: expect.any(Number),
    });
    expect(Number(put?.Item?.expiresAt)).toBeGreaterThanOrEqual(before + 90 * 24 * 3600);
  });

  it('lets only the same or a newer attempt of a shard write its row', async () => {
    await store.report('job-1', aShardProgress({ attempt: 2 }));

    expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
      ConditionExpression: 'attribute_not_exists(attempt) OR attempt <= :attempt',
      ExpressionAttributeValues: { ':attempt': 2 },
    });
  });

  it('drops the report of an older attempt, once a newer one has written the row', async () => {
    dynamo
      .on(PutCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );

    await expect(store.report('job-1', aShardProgress({ attempt: 1 }))).resolves.toBeUndefined();
  });

  it('lets any other failure through', async () => {
    dynamo.on(PutCommand).rejects(new Error('ProvisionedThroughputExceededException'));

    await expect(store.report('job-1', aShardProgress())).rejects.toThrow(
      'ProvisionedThroughputExceededException',
    );
  });

  it("lists a job's rows from the byShardOf index, page after page, in shard order, without storage attributes", async () => {
    const error = { code: 'INFERENCE_FAILED', message: 'bad tensor' };
    dynamo
      .on(QueryCommand)
      .resolvesOnce({
        Items: [storedShardRow('job-1', aShardProgress({ index: 2 }))],
        LastEvaluatedKey: { jobId: 'job-1#shard#2', shardOf: 'job-1', shardIndex: 2 },
      })
      .resolvesOnce({
        Items: [
          storedShardRow('job-1', aShardProgress({ index: 0, status: 'failed', error })),
          storedShardRow('job-1', aShardProgress({ index: 1 })),
        ],
      });

    const rows = await store.listFor('job-1');

    expect(rows).toEqual([
      aShardProgress({ index: 0, status: 'failed', error }),
      aShardProgress({ index: 1 }),
      aShardProgress({ index: 2 }),
    ]);
    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(dynamo.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      TableName: testResources.jobsTable,
      IndexName: shardProgressIndex,
      KeyConditionExpression: 'shardOf = :jobId',
      ExpressionAttributeValues: { ':jobId': 'job-1' },
    });
    expect(dynamo.commandCalls(QueryCommand)[1]?.args[0].input.ExclusiveStartKey).toEqual({
      jobId: 'job-1#shard#2',
      shardOf: 'job-1',
      shardIndex: 2,
    });
  });
});
