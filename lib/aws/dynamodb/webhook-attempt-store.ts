import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../clients';
import { resources } from '../../config';
import { withAttempt } from '../../webhooks/attempt';
import type { WebhookAttempt } from '../../webhooks/attempt';
import type { WebhookAttemptStore } from '../../ports/webhook-attempt-store';

/**
 * Records attempts on the job's item in the jobs table. DynamoDB cannot append to a list and
 * trim it in one update (the two paths overlap), so this reads the list, writes the trimmed
 * list back, and makes the write conditional on `webhookAttemptCount` (every attempt ever
 * recorded) being what it read. Two senders racing on one job (SNS delivers at least once)
 * therefore cannot drop each other's attempt: the loser reads again and retries.
 */
export class DynamoWebhookAttemptStore implements WebhookAttemptStore {
  constructor(
    private readonly client: () => DynamoDBDocumentClient = dynamoDocumentClient.get,
    private readonly tableName: () => string = resources.jobsTable,
    private readonly maxTries = 3,
  ) {}

  async record(jobId: string, attempt: WebhookAttempt): Promise<void> {
    for (let tries = 1; ; tries += 1) {
      const { Item } = await this.client().send(
        new GetCommand({
          TableName: this.tableName(),
          Key: { jobId },
          ProjectionExpression: 'jobId, webhookAttempts, webhookAttemptCount',
          ConsistentRead: true,
        }),
      );
      if (!Item) return;
      const seen = typeof Item.webhookAttemptCount === 'number' ? Item.webhookAttemptCount : undefined;
      const attempts = Array.isArray(Item.webhookAttempts) ? (Item.webhookAttempts as WebhookAttempt[]) : [];
      try {
        await this.client().send(
          new UpdateCommand({
            TableName: this.tableName(),
            Key: { jobId },
            UpdateExpression: 'SET webhookAttempts = :attempts, webhookAttemptCount = :count',
            ConditionExpression:
              seen === undefined
                ? 'attribute_exists(jobId) AND attribute_not_exists(webhookAttemptCount)'
                : 'attribute_exists(jobId) AND webhookAttemptCount = :seen',
            ExpressionAttributeValues: {
              ':attempts': withAttempt(attempts, attempt),
              ':count': (seen ?? 0) + 1,
              ...(seen === undefined ? {} : { ':seen': seen }),
            },
          }),
        );
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException) || tries >= this.maxTries) throw error;
      }
    }
  }
}
