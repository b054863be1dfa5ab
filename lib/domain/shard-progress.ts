import type { JobError } from './job';

/**
 * Each shard's worker keeps one small row in the jobs table (`<jobId>#shard#<index>`), written
 * every few seconds while it runs and once at the end. The rows are the shards' reports: the
 * API sums them for progress, "Record results and complete job" for the counts, "Mark job
 * failed" for the reason. A retried attempt
 * overwrites its shard's row; an older attempt can never overwrite a newer one.
 */
export type ShardStatus = 'running' | 'succeeded' | 'failed';

export interface ShardProgress {
  index: number;
  status: ShardStatus;
  attempt: number;
  processed: number;
  succeeded: number;
  failed: number;
  /** Input bytes read so far: progress when the job's record total is not known. */
  bytes?: number;
  /** Newlines in the shard's records: where the next shard's line numbers start. */
  lines?: number;
  error?: JobError;
  updatedAt: string;
  /** When this attempt began: with `updatedAt` and `processed`, the shard's records per second. */
  startedAt?: string;
}

export interface ShardSummary {
  total: number;
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  /** Shards that had not finished (pending or running) when the job ended: they never will. */
  stopped: number;
}

/**
 * Records and shards so far, from the rows the shards have written. For a job that ended
 * (failed, cancelled), a shard still pending or running never will be: it counts as stopped.
 */
export const summarizeShards = (rows: ShardProgress[], shardCount: number, jobEnded = false) => {
  const shards: ShardSummary = {
    total: shardCount,
    pending: Math.max(0, shardCount - rows.length),
    running: 0,
    succeeded: 0,
    failed: 0,
    stopped: 0,
  };
  let succeeded = 0;
  let failed = 0;
  let bytes = 0;
  for (const row of rows) {
    shards[row.status]++;
    succeeded += row.succeeded;
    failed += row.failed;
    bytes += row.bytes ?? 0;
  }
  if (jobEnded) {
    shards.stopped = shards.pending + shards.running;
    shards.pending = 0;
    shards.running = 0;
  }
  return { shards, succeeded, failed, bytes };
};

/** Records per second of a shard's attempt so far (null until it has run a moment). */
export const recordsPerSecondOf = (row: ShardProgress): number | null => {
  if (!row.startedAt) return null;
  const seconds = (new Date(row.updatedAt).getTime() - new Date(row.startedAt).getTime()) / 1000;
  return seconds > 0 ? row.processed / seconds : null;
};

/** A job's counts when it ends early (failed, cancelled): its total, and what its shards got to. */
export const partialCountsOf = (total: number | undefined, rows: ShardProgress[]) => {
  const { succeeded, failed } = summarizeShards(rows, rows.length);
  return { total: total ?? succeeded + failed, succeeded, failed };
};

/**
 * This run's attempt number for its shard row. Batch counts attempts within one Batch job, and a
 * resumed job's new Batch job starts again at 1: the row's number must still grow, or the new
 * attempt's reports would lose to the older attempt's (rows never go back to an older attempt).
 */
export const attemptAfter = (previousAttempt: number | undefined, batchAttempt: number) =>
  previousAttempt === undefined ? batchAttempt : Math.max(previousAttempt + 1, batchAttempt);
