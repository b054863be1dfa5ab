import { NotFound } from '../lib/errors';
import { DynamoJobStore } from '../lib/jobs/job-store';
import { jobView } from '../lib/jobs/job-view';
import { apiBaseUrl, httpHandler, json, ownerOf } from './middleware';

const store = new DynamoJobStore();

/** GET /jobs/{jobId}: the caller's job; another owner's job is as absent as a missing one. */
export const handler = httpHandler(async (event) => {
  const ownerId = ownerOf(event);
  const jobId = event.pathParameters?.jobId ?? '';
  const job = await store.get(jobId);
  if (!job || job.ownerId !== ownerId) {
    throw new NotFound('JOB_NOT_FOUND', `There is no job ${jobId}.`);
  }
  return json(200, jobView(job, apiBaseUrl(event)));
});
