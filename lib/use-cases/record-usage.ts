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
 * A cancelled job passes `until`, the cancel: the attempts it stopped count up to then, since
 * Batch lists an attempt only once its container has stopped.
 */
export const recordJobUsage = async (
  jobId: string,
  deps: RecordUsageDeps,
  until?: Date,
): Promise<JobUsage> => {
  const attempts = await deps.batch.attemptsFor(jobId, until);
  const usage = usageOf(attempts, deps.instanceType, deps.measuredBy);
  await deps.store.recordUsage(jobId, usage);
  return usage;
};
