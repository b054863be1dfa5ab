import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { S3Event } from 'aws-lambda';
import { S3ObjectStore } from '../lib/aws/object-store';
import { requireEnv, resources } from '../lib/config';
import { SnsJobEventPublisher } from '../lib/jobs/job-events';
import { SqsJobQueue } from '../lib/jobs/job-queue';
import { DynamoJobStore } from '../lib/jobs/job-store';
import { decodeS3EventKey, startDroppedJob } from '../lib/jobs/s3-drop';
import { logger } from '../lib/logger';

const store = new DynamoJobStore();
const queue = new SqsJobQueue();
const objects = new S3ObjectStore();
const events = new SnsJobEventPublisher();

/**
 * S3 ObjectCreated under `drop/<model>/` in the inputs bucket: one job per file, owned by
 * DROP_OWNER_ID. A failure other than a rejected file throws, so that Lambda retries the event;
 * the retry finds the job the first attempt made, if it got that far.
 */
export const handler = middy<S3Event>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
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
