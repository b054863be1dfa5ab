import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { RegistryModelCatalog } from '../lib/use-cases/model-catalog';
import type { S3Event } from 'aws-lambda';
import { S3ObjectStore } from '../lib/aws/s3';
import { requireEnv, resources } from '../lib/config';
import { SnsJobEventPublisher } from '../lib/aws/sns';
import { SqsJobQueue } from '../lib/aws/sqs';
import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { decodeS3EventKey, startDroppedJob } from '../lib/use-cases/s3-drop';
import { logger } from '../lib/logger';
import { eventHandler } from './middleware';

const store = new DynamoJobStore();
const queue = new SqsJobQueue();
const objects = new S3ObjectStore();
const events = new SnsJobEventPublisher();
const models = new RegistryModelCatalog(new DynamoModelRegistry());

/**
 * S3 ObjectCreated under `drop/<model>/` in the inputs bucket: one job per file, owned by
 * DROP_OWNER_ID. A failure other than a rejected file throws, so that Lambda retries the event;
 * the retry finds the job the first attempt made, if it got that far.
 */
export const handler = eventHandler(async (event: S3Event) => {
  for (const record of event.Records) {
    const object = {
      bucket: record.s3.bucket.name,
      key: decodeS3EventKey(record.s3.object.key),
      sequencer: record.s3.object.sequencer,
      ...(record.s3.object.versionId ? { versionId: record.s3.object.versionId } : {}),
    };
    const created = await startDroppedJob(object, {
      store,
      queue,
      objects,
      models,
      events,
      ownerId: requireEnv('DROP_OWNER_ID'),
      inputsBucket: resources.inputsBucket(),
      outputsBucket: resources.outputsBucket(),
    });
    if (created) {
      logger.info(created.replayed ? 'Drop already has its job' : 'Job started for dropped file', {
        jobId: created.job.jobId,
        key: object.key,
      });
    }
  }
});
