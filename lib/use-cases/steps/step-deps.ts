import type { Job } from '../../domain/job';
import type { JobStore } from '../../ports/job-store';
import type { ObjectStore } from '../../ports/object-store';
import type { ModelCatalog } from '../../ports/model-registry';
import type { ShardProgressStore } from '../../ports/shard-progress-store';

/**
 * What the state machine's Lambda tasks work with. Each step is safe to run twice: Step
 * Functions retries a task whose Lambda timed out after it had done its work.
 */
export interface StepDeps {
  store: JobStore;
  objects: ObjectStore;
  progress: ShardProgressStore;
  models: ModelCatalog;
  inputsBucket: string;
  outputsBucket: string;
  now?: () => Date;
}

export const nowOf = (deps: { now?: () => Date }) => (deps.now ?? (() => new Date()))().toISOString();

export const jobOrThrow = async (jobId: string, store: JobStore): Promise<Job> => {
  const job = await store.get(jobId);
  if (!job) throw new Error(`Job ${jobId} does not exist`);
  return job;
};
