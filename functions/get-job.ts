import { NotFound } from '../lib/errors';
import { DynamoJobStore } from '../lib/jobs/job-store';
import { jobView } from '../lib/jobs/job-view';
import { DynamoShardProgressStore, summarizeShards } from '../lib/jobs/shard-progress';
import { apiBaseUrl, httpHandler, json, ownerOf } from './middleware';

const store = new DynamoJobStore();
const shardProgress = new DynamoShardProgressStore();

/** GET /jobs/{jobId}: the caller's job, with its shards' progress; another owner's job is as absent as a missing one. */
export const handler = httpHandler(async (event) => {
  const ownerId = ownerOf(event);
  const jobId = event.pathParameters?.jobId ?? '';
  const job = await store.get(jobId);
  if (!job || job.ownerId !== ownerId) {
    throw new NotFound('JOB_NOT_FOUND', `There is no job ${jobId}.`);
  }
  const progress = job.shardCount
    ? summarizeShards(await shardProgress.listFor(jobId), job.shardCount)
    : undefined;
  return json(200, jobView(job, apiBaseUrl(event), progress));
});
