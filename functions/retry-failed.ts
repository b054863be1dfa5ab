import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { RegistryModelCatalog } from '../lib/use-cases/model-catalog';
import { S3ObjectStore } from '../lib/aws/s3';
import { resources } from '../lib/config';
import { SqsJobQueue } from '../lib/aws/sqs';
import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { retryFailedRecords } from '../lib/use-cases/retry-failed';
import { logger } from '../lib/logger';
import { httpHandler, jobAccepted, ownerOf } from './middleware';

const store = new DynamoJobStore();
const queue = new SqsJobQueue();
const objects = new S3ObjectStore();
const models = new RegistryModelCatalog(new DynamoModelRegistry());

/** POST /jobs/{jobId}/retry-failed: a new job over the job's failed records. */
export const handler = httpHandler(async (event) => {
  const ownerId = ownerOf(event);
  const parentJobId = event.pathParameters?.jobId ?? '';
  const { job, replayed } = await retryFailedRecords(ownerId, parentJobId, {
    store,
    queue,
    objects,
    models,
    inputsBucket: resources.inputsBucket(),
    outputsBucket: resources.outputsBucket(),
  });
  logger.info(replayed ? 'Retry job already exists' : 'Retry job accepted', {
    jobId: job.jobId,
    parentJobId,
  });
  return jobAccepted(event, job, replayed, { parentJobId });
});
