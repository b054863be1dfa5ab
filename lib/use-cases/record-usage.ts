import { usageOf } from '../domain/cost';
import type { JobUsage } from '../domain/cost';
import type { BatchUsageReader } from '../ports/batch-jobs';
import type { JobStore } from '../ports/job-store';

export interface RecordUsageDeps {
  batch: BatchUsageReader;
  store: Pick<JobStore, 'recordUsage'>;
  instanceType: string;
  measuredBy: JobUsage['measuredBy'];
}

/**
 * Records the instance time a job's Batch attempts held, from Batch's own started and stopped
 * times, so that its cost outlives Batch's memory of the jobs (a week or so after they end).
 */
export const recordJobUsage = async (jobId: string, deps: RecordUsageDeps): Promise<JobUsage> => {
  const attempts = await deps.batch.attemptsFor(jobId);
  const usage = usageOf(attempts, deps.instanceType, deps.measuredBy);
  await deps.store.recordUsage(jobId, usage);
  return usage;
};
