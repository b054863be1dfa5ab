/** A shard's worker output, attempt by attempt: what an operator reads when a shard fails. */
export interface WorkerLogs {
  /** The last `maxLines` lines of each attempt of the shard (index 0 for a single-shard job). */
  tail(
    jobId: string,
    shard: number,
    maxLines: number,
  ): Promise<{ attempt: number; source: string; lines: string[]; truncated: boolean }[]>;
}
