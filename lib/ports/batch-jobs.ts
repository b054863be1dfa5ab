export interface BatchJobTerminator {
  /** Terminates every unfinished Batch job of a Longtail job (array children go with their parent). */
  terminateAllFor(jobId: string, reason: string): Promise<number>;
}

/** Batch's own record of a Longtail job's attempts: the instance time each one held. */
export interface BatchUsageReader {
  /**
   * Every finished attempt of every Batch job (and array child) of the Longtail job; with
   * `until`, also each attempt still running, as if it stopped then.
   */
  attemptsFor(jobId: string, until?: Date): Promise<import('../domain/cost').BatchAttemptUsage[]>;
}

/** What waits in Batch: the queue's RUNNABLE jobs and how long each has waited. */
export interface BatchQueueReader {
  runnable(now?: number): Promise<{ batchJobId: string; jobName: string; waitingSeconds: number }[]>;
  /** The job queue's and compute environments' state, as DescribeJobQueues / DescribeComputeEnvironments say. */
  capacity(): Promise<{
    queues: { name: string; state: string; status: string }[];
    computeEnvironments: {
      name: string;
      state: string;
      status: string;
      desiredvCpus: number;
      maxvCpus: number;
    }[];
  }>;
}
