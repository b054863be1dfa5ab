import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { RegistryModelCatalog } from '../lib/use-cases/model-catalog';
import type { S3Event, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { S3ObjectStore } from '../lib/aws/s3';
import { dropMaxObjects, requireEnv, resources } from '../lib/config';
import { SnsJobEventPublisher } from '../lib/aws/sns';
import { SqsJobQueue } from '../lib/aws/sqs';
import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { dropWritesOf, startDroppedJobs } from '../lib/use-cases/drop-delivery';
import { logger } from '../lib/logger';
import { eventHandler } from './middleware';

const store = new DynamoJobStore();
const queue = new SqsJobQueue();
const objects = new S3ObjectStore();
const events = new SnsJobEventPublisher();
const models = new RegistryModelCatalog(new DynamoModelRegistry());

/** Units not started with less than this left are reported, not cut off by the timeout. */
const stopStartingWithMs = 5_000;

const isQueueDelivery = (event: SQSEvent | S3Event): event is SQSEvent =>
  event.Records.some((record) => 'body' in record);

/**
 * Objects created under `drop/<model>/` in the inputs bucket, delivered through the drops queue
 * (its batching window gathers them): the images of a model folder become one job over a
 * manifest of them, every other file a job of its own, owned by DROP_OWNER_ID. The messages of
 * a unit that failed for a reason other than a rejected drop are reported, so that only they
 * come back; a retry finds the job the first attempt made, if it got that far. A direct S3
 * event (no queue) throws instead, so that Lambda retries it.
 */
export const handler = eventHandler(
  async (event: SQSEvent | S3Event, context): Promise<SQSBatchResponse | undefined> => {
    const ownerId = requireEnv('DROP_OWNER_ID');
    const result = await startDroppedJobs(
      dropWritesOf(event),
      {
        store,
        queue,
        objects,
        models,
        events,
        ownerId,
        inputsBucket: resources.inputsBucket(),
        outputsBucket: resources.outputsBucket(),
      },
      {
        maxObjects: dropMaxObjects(),
        // A job takes well under a second to start; leave room for the answer.
        outOfTime: () => context.getRemainingTimeInMillis() < stopStartingWithMs,
      },
    );
    for (const error of result.errors) logger.error('Drop not started; its messages come back', { error });
    if (!isQueueDelivery(event)) {
      if (result.errors[0]) throw result.errors[0];
      return undefined;
    }
    return { batchItemFailures: result.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
  },
);
