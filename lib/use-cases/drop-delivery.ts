import type { S3Event, S3EventRecord, SQSEvent } from 'aws-lambda';
import { groupDrops, writeIdOf } from '../domain/drop-batch';
import type { DropWrite } from '../domain/drop-batch';
import { logger } from '../logger';
import { runLimited } from '../run-limited';
import { decodeS3EventKey, dropTargetOf, startDroppedJob } from './s3-drop';
import type { DropDeps } from './s3-drop';
import { startDroppedBatch } from './s3-drop-batch';

/**
 * Drop notifications reach the s3Drop function through the drops queue (S3 → SQS → Lambda with
 * a batching window), so that one invocation sees many writes and gathers images into one job.
 * A plain S3 event (S3 → Lambda, or a hand-made test event) is still understood.
 */

/** A write, and the queue messages that announced it (none for a direct S3 event). */
export interface DeliveredWrite extends DropWrite {
  messageIds: string[];
}

const writeOf = (record: S3EventRecord, messageId?: string): DeliveredWrite => ({
  bucket: record.s3.bucket.name,
  key: decodeS3EventKey(record.s3.object.key),
  sequencer: record.s3.object.sequencer,
  ...(record.s3.object.versionId ? { versionId: record.s3.object.versionId } : {}),
  messageIds: messageId === undefined ? [] : [messageId],
});

const isObjectCreated = (record: S3EventRecord) =>
  record.eventSource === 'aws:s3' && record.eventName.startsWith('ObjectCreated:');

/**
 * The object writes an invocation carries. S3's `s3:TestEvent` (sent when the notification is
 * configured) and bodies that are not S3 events are logged and skipped: no retry would make
 * them start a job.
 */
export const dropWritesOf = (event: SQSEvent | S3Event): DeliveredWrite[] => {
  const writes: DeliveredWrite[] = [];
  for (const record of event.Records as (SQSEvent['Records'][number] | S3EventRecord)[]) {
    if (!('body' in record)) {
      if (isObjectCreated(record)) writes.push(writeOf(record));
      continue;
    }
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      logger.warn('Drop message is not JSON: skipped', { messageId: record.messageId });
      continue;
    }
    if ((body as { Event?: unknown }).Event === 's3:TestEvent') continue;
    const s3Records = (body as Partial<S3Event>).Records;
    if (!Array.isArray(s3Records)) {
      logger.warn('Drop message is not an S3 event: skipped', { messageId: record.messageId });
      continue;
    }
    for (const s3Record of s3Records) {
      if (isObjectCreated(s3Record)) writes.push(writeOf(s3Record, record.messageId));
    }
  }
  return writes;
};

export interface DeliveryOptions {
  /** The most objects one batch job takes; more make several jobs. */
  maxObjects: number;
  /** Jobs started at once. */
  concurrency?: number;
  /**
   * True when no more jobs should be started (the function is near its timeout): the units not
   * started yet report their messages as failed, so that a timeout does not bring back the
   * messages of the jobs already made.
   */
  outOfTime?: () => boolean;
}

export interface DeliveryResult {
  jobs: number;
  /** The messages of the units (batches, files) that failed: only they come back to be retried. */
  failedMessageIds: string[];
  errors: Error[];
}

/**
 * Starts the jobs for one delivery: one per batch of images of a model folder (up to
 * `maxObjects` each), one per other file, each with its own idempotency key. A unit that fails
 * reports its messages, so that only they are delivered again.
 */
export const startDroppedJobs = async (
  writes: readonly DeliveredWrite[],
  deps: DropDeps,
  options: DeliveryOptions,
): Promise<DeliveryResult> => {
  const grouped = groupDrops(writes, (key) => dropTargetOf(key)?.model, options.maxObjects);
  const result: DeliveryResult = { jobs: 0, failedMessageIds: [], errors: [] };
  // The same write announced by several messages: each of them fails with its unit.
  const messagesOf = new Map<string, string[]>();
  for (const write of writes)
    messagesOf.set(writeIdOf(write), [...(messagesOf.get(writeIdOf(write)) ?? []), ...write.messageIds]);
  const unit = (covered: readonly DeliveredWrite[], start: () => Promise<unknown>) => async () => {
    try {
      if (options.outOfTime?.()) throw new Error('Not started before the function ran out of time');
      if (await start()) result.jobs += 1;
    } catch (error) {
      result.errors.push(error as Error);
      result.failedMessageIds.push(...covered.flatMap((write) => messagesOf.get(writeIdOf(write)) ?? []));
    }
  };
  const tasks = [
    ...grouped.batches.map((batch) =>
      unit(batch.writes, async () => {
        const created = await startDroppedBatch(batch, deps);
        if (created) {
          logger.info(
            created.replayed ? 'Drop batch already has its job' : 'Job started for dropped images',
            {
              jobId: created.job.jobId,
              model: batch.model,
              objects: batch.writes.length,
            },
          );
        }
        return created;
      }),
    ),
    ...grouped.files.map((file) =>
      unit([file], async () => {
        const created = await startDroppedJob(file, deps);
        if (created) {
          logger.info(created.replayed ? 'Drop already has its job' : 'Job started for dropped file', {
            jobId: created.job.jobId,
            key: file.key,
          });
        }
        return created;
      }),
    ),
  ];
  await runLimited(tasks, options.concurrency ?? 8);
  result.failedMessageIds = [...new Set(result.failedMessageIds)];
  return result;
};
