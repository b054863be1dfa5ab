import { S3ObjectStore } from '../lib/aws/object-store';
import { resources } from '../lib/config';
import { createJob, createJobRequestSchema } from '../lib/jobs/create-job';
import { SqsJobQueue } from '../lib/jobs/job-queue';
import { DynamoJobStore } from '../lib/jobs/job-store';
import { jobView } from '../lib/jobs/job-view';
import { logger } from '../lib/logger';
import { parseOrThrow } from '../lib/validation';
import { apiBaseUrl, httpHandler, json, ownerOf } from './middleware';

const store = new DynamoJobStore();
const queue = new SqsJobQueue();
const objects = new S3ObjectStore();

/** POST /jobs: accepts a job and answers 202 with where to watch it. */
export const handler = httpHandler(
  async (event) => {
    const ownerId = ownerOf(event);
    const request = parseOrThrow(createJobRequestSchema, event.body, 'job request');
    const job = await createJob(ownerId, request, {
      store,
      queue,
      objects,
      inputsBucket: resources.inputsBucket(),
      outputsBucket: resources.outputsBucket(),
    });
    logger.info('Job accepted', { jobId: job.jobId, model: job.model, input: job.input });
    const view = jobView(job, apiBaseUrl(event));
    return json(
      202,
      { jobId: job.jobId, status: job.status, statusUrl: view.statusUrl, outputUri: job.outputUri },
      { location: view.statusUrl },
    );
  },
  { jsonBody: true },
);
