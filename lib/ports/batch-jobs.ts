export interface BatchJobTerminator {
  /** Terminates every unfinished Batch job of a Longtail job (array children go with their parent). */
  terminateAllFor(jobId: string, reason: string): Promise<number>;
}
