import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Job } from '../lib/domain/job';
import { jobEventOf } from '../lib/domain/job-event';
import { webhookIdOf } from '../lib/webhooks/signing';

/** How far back a restart looks for ended jobs whose webhook was not delivered. */
const lookBackMs = 24 * 3600 * 1000;

/**
 * The webhooks queue lives in memory locally (fauxqs): a runtime that stops loses the deliveries
 * it held (a first try, or a retry waiting out its backoff). At start, each job that ended in
 * the last day with a webhook URL and no successful delivery of its end event has that event
 * queued again: the same event, so the same `webhook-id` (receivers deduplicate on it). A job
 * whose delivery had already failed for good was not delivered either, and is tried again.
 * Local only: in AWS the SQS queue keeps its messages.
 */
export const requeueUndeliveredWebhooks = async (
  dynamo: DynamoDBDocumentClient,
  jobsTable: string,
  sqs: SQSClient,
  webhooksQueueUrl: string,
  now = Date.now(),
): Promise<number> => {
  const since = new Date(now - lookBackMs).toISOString();
  let requeued = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({
        TableName: jobsTable,
        FilterExpression:
          'attribute_exists(webhookUrl) AND #status IN (:completed, :failed, :cancelled) AND completedAt >= :since',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':completed': 'completed',
          ':failed': 'failed',
          ':cancelled': 'cancelled',
          ':since': since,
        },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      const job = item as unknown as Job;
      const event = jobEventOf(job);
      const webhookId = webhookIdOf(job.jobId, event.type);
      if ((job.webhookAttempts ?? []).some((a) => a.ok && a.webhookId === webhookId)) continue;
      await sqs.send(
        new SendMessageCommand({ QueueUrl: webhooksQueueUrl, MessageBody: JSON.stringify(event) }),
      );
      requeued++;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return requeued;
};
