import type { ShardProgress } from '../domain/shard-progress';

/** Each shard's own report row: written by its worker, read for progress, counts and reasons. */
export interface ShardProgressStore {
  report(jobId: string, progress: ShardProgress): Promise<void>;
  listFor(jobId: string): Promise<ShardProgress[]>;
}
