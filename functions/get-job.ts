import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { DynamoShardProgressStore } from '../lib/aws/dynamodb/shard-progress-store';
import { jobView } from '../lib/domain/job-view';
import { priceTable } from '../lib/config';
import { isTerminal } from '../lib/domain/job';
import { summarizeShards } from '../lib/domain/shard-progress';
import { getOwnedJob } from '../lib/use-cases/get-job';
import { apiBaseUrl, httpHandler, json, ownerOf } from './middleware';

const store = new DynamoJobStore();
const shardProgress = new DynamoShardProgressStore();

/** GET /jobs/{jobId}: the caller's job, with its shards' progress and, once it ended, its cost. */
export const handler = httpHandler(async (event) => {
  const jobId = event.pathParameters?.jobId ?? '';
  const job = await getOwnedJob(ownerOf(event), jobId, store);
  const progress = job.shardCount
    ? summarizeShards(await shardProgress.listFor(jobId), job.shardCount, isTerminal(job.status))
    : undefined;
  return json(200, jobView(job, apiBaseUrl(event), priceTable(), progress));
});
