import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../aws/clients';
import { resources } from '../config';
import type { JobError } from './job';

/**
 * Each shard's worker keeps one small row in the jobs table (`<jobId>#shard#<index>`), written
 * every few seconds while it runs and once at the end. The rows are the shards' reports: the
 * API sums them for progress, Finalize for the counts, Fail for the reason. A retried attempt
 * overwrites its shard's row; an older attempt can never overwrite a newer one.
 */
export type ShardStatus = 'running' | 'succeeded' | 'failed';

export interface ShardProgress {
  index: number;
  status: ShardStatus;
  attempt: number;
  processed: number;
  succeeded: number;
  failed: number;
  error?: JobError;
  updatedAt: string;
}

export interface ShardSummary {
  total: number;
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
}

export interface ShardProgressStore {
  report(jobId: string, progress: ShardProgress): Promise<void>;
  listFor(jobId: string): Promise<ShardProgress[]>;
}

export const shardProgressIndex = 'byShardOf';

const shardRowId = (jobId: string, index: number) => `${jobId}#shard#${index}`;

/** Shard rows expire with the job they belong to. */
const retentionSeconds = 90 * 24 * 3600;

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
      for (const item of page.Items ?? []) {
        const { index, status, attempt, processed, succeeded, failed, error, updatedAt } =
          item as ShardProgress;
        rows.push({
          index,
          status,
          attempt,
          processed,
          succeeded,
          failed,
          ...(error ? { error } : {}),
          updatedAt,
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return rows.sort((a, b) => a.index - b.index);
  }
}

/** Records and shards so far, from the rows the shards have written. */
export const summarizeShards = (rows: ShardProgress[], shardCount: number) => {
  const shards: ShardSummary = {
    total: shardCount,
    pending: shardCount - rows.length,
    running: 0,
    succeeded: 0,
    failed: 0,
  };
  let succeeded = 0;
  let failed = 0;
  for (const row of rows) {
    shards[row.status]++;
    succeeded += row.succeeded;
    failed += row.failed;
  }
  return { shards, succeeded, failed };
};

/** A job's counts when it ends early (failed, cancelled): its total, and what its shards got to. */
export const partialCountsOf = (total: number, rows: ShardProgress[]) => {
  const { succeeded, failed } = summarizeShards(rows, rows.length);
  return { total, succeeded, failed };
};
