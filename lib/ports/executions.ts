/** The job's orchestration run: one execution per job, named by its id. */

export interface ExecutionStarter {
  /** Starts the job's execution, named by its id; starting it twice starts it once. */
  start(jobId: string): Promise<{ executionArn: string; alreadyStarted: boolean }>;
}

export interface ExecutionStopper {
  stop(executionArn: string, cause: string): Promise<void>;
}

export type ExecutionStatus =
  'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface ExecutionLookup {
  /** The execution's status, or undefined when there is none. */
  describe(
    executionArn: string,
  ): Promise<{ status: ExecutionStatus; error?: string; cause?: string } | undefined>;
}

/** One event of an execution's history, as Step Functions' GetExecutionHistory returns it. */
export interface HistoryEvent {
  id: number;
  previousEventId?: number;
  timestamp: string;
  type: string;
  /** The state a `…StateEntered` / `…StateExited` event is about. */
  stateName?: string;
  input?: string;
  output?: string;
  error?: string;
  cause?: string;
}

export interface ExecutionHistoryReader {
  /** Every event of the execution, oldest first; undefined when the execution is unknown (or its history gone). */
  history(executionArn: string): Promise<HistoryEvent[] | undefined>;
}

export interface ExecutionRedriver {
  /**
   * Continues a failed, aborted or timed-out execution from the state where it stopped, under the
   * same ARN (Step Functions' RedriveExecution). Throws ExecutionNotRedrivable when it cannot.
   */
  redrive(executionArn: string): Promise<void>;
}
