import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../clients';
import { resources } from '../../config';
import type { ShardProgress } from '../../domain/shard-progress';
import type { ShardProgressStore } from '../../ports/shard-progress-store';

/** Shard rows live in the jobs table beside their job, found through the `byShardOf` index. */
export const shardProgressIndex = 'byShardOf';

const shardRowId = (jobId: string, index: number) => `${jobId}#shard#${index}`;

/** Shard rows expire with the job they belong to. */
const retentionSeconds = 90 * 24 * 3600;

const progressOf = (item: Record<string, unknown>): ShardProgress => {
  const { index, status, attempt, processed, succeeded, failed, error, updatedAt } =
    item as unknown as ShardProgress;
  return { index, status, attempt, processed, succeeded, failed, ...(error ? { error } : {}), updatedAt };
};

export class DynamoShardProgressStore implements ShardProgressStore {
  constructor(
    private readonly client: () => DynamoDBDocumentClient = dynamoDocumentClient.get,
    private readonly tableName: () => string = resources.jobsTable,
  ) {}

  async report(jobId: string, progress: ShardProgress) {
    try {
      await this.client().send(
        new PutCommand({
          TableName: this.tableName(),
          Item: {
            jobId: shardRowId(jobId, progress.index),
            shardOf: jobId,
            shardIndex: progress.index,
            ...progress,
            expiresAt: Math.floor(Date.now() / 1000) + retentionSeconds,
          },
          ConditionExpression: 'attribute_not_exists(attempt) OR attempt <= :attempt',
          ExpressionAttributeValues: { ':attempt': progress.attempt },
        }),
      );
    } catch (error) {
      // A newer attempt of this shard has reported: this one's word no longer counts.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** One shard's row (what its worker reads at start: its own row, the only one its role may read). */
  async get(jobId: string, index: number): Promise<ShardProgress | undefined> {
    const { Item } = await this.client().send(
      new GetCommand({
        TableName: this.tableName(),
        Key: { jobId: shardRowId(jobId, index) },
        ConsistentRead: true,
      }),
    );
    return Item ? progressOf(Item) : undefined;
  }

  async listFor(jobId: string): Promise<ShardProgress[]> {
    const rows: ShardProgress[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client().send(
        new QueryCommand({
          TableName: this.tableName(),
          IndexName: shardProgressIndex,
          KeyConditionExpression: 'shardOf = :jobId',
          ExpressionAttributeValues: { ':jobId': jobId },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) rows.push(progressOf(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return rows.sort((a, b) => a.index - b.index);
  }
}
