import type { Job } from '../domain/job';
import { NotFound } from '../errors';
import type { JobStore } from '../ports/job-store';

/** The caller's job; another owner's job is as absent as a missing one, so ids reveal nothing. */
export const getOwnedJob = async (
  ownerId: string,
  jobId: string,
  store: Pick<JobStore, 'get'>,
): Promise<Job> => {
  const job = await store.get(jobId);
  if (!job || job.ownerId !== ownerId) throw new NotFound('JOB_NOT_FOUND', `There is no job ${jobId}.`);
  return job;
};
