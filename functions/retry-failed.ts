import { S3ObjectStore } from '../lib/aws/object-store';
import { resources } from '../lib/config';
import { SqsJobQueue } from '../lib/jobs/job-queue';
import { DynamoJobStore } from '../lib/jobs/job-store';
import { retryFailedRecords } from '../lib/jobs/retry-failed';
import { logger } from '../lib/logger';
import { jobView, webhookSecretOf } from '../lib/jobs/job-view';
import { apiBaseUrl, httpHandler, json, ownerOf } from './middleware';

const store = new DynamoJobStore();
const queue = new SqsJobQueue();
const objects = new S3ObjectStore();

/** POST /jobs/{jobId}/retry-failed: a new job over the job's failed records. */
export const handler = httpHandler(async (event) => {
  const ownerId = ownerOf(event);
  const parentJobId = event.pathParameters?.jobId ?? '';
  const { job, replayed } = await retryFailedRecords(ownerId, parentJobId, {
    store,
    queue,
    objects,
    inputsBucket: resources.inputsBucket(),
    outputsBucket: resources.outputsBucket(),
  });
  logger.info(replayed ? 'Retry job already exists' : 'Retry job accepted', {
    jobId: job.jobId,
    parentJobId,
  });
  const view = jobView(job, apiBaseUrl(event));
  return json(
    202,
    {
      jobId: job.jobId,
      parentJobId,
      status: job.status,
      statusUrl: view.statusUrl,
      outputUri: job.outputUri,
      ...webhookSecretOf(job),
    },
    { location: view.statusUrl, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) },
  );
});
