import { ListJobsCommand } from '@aws-sdk/client-batch';
import type { BatchClient } from '@aws-sdk/client-batch';

/**
 * Seconds the oldest RUNNABLE job of a queue has waited (0 when none waits). Batch publishes no
 * such metric, and a job stuck RUNNABLE (no capacity, or asking for more than any instance has)
 * otherwise shows nowhere.
 */
export const oldestRunnableAgeSeconds = async (
  client: BatchClient,
  jobQueue: string,
  now = Date.now(),
): Promise<number> => {
  let oldest = now;
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListJobsCommand({ jobQueue, jobStatus: 'RUNNABLE', nextToken }));
    for (const job of page.jobSummaryList ?? []) {
      if (job.createdAt !== undefined && job.createdAt < oldest) oldest = job.createdAt;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return Math.max(0, Math.round((now - oldest) / 1000));
};
