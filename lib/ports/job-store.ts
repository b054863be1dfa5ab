import type { JobUsage } from '../domain/cost';
import type { Job, JobStatus } from '../domain/job';

export interface JobPage {
  jobs: Job[];
  /** Pass back as `cursor` for the next page; absent on the last one. */
  nextCursor?: string;
}

export interface ListJobsQuery {
  status?: JobStatus;
  limit: number;
  cursor?: string;
}

/** Fields a transition may set besides the status. */
export type TransitionFields = Partial<
  Pick<
    Job,
    'startedAt' | 'completedAt' | 'counts' | 'error' | 'executionArn' | 'cancelRequestedAt' | 'partialOutputs'
  >
>;

/** Where job records live; every status change is conditional, so a job moves only forward. */
export interface JobStore {
  create(job: Job): Promise<void>;
  get(jobId: string): Promise<Job | undefined>;
  listByOwner(ownerId: string, query: ListJobsQuery): Promise<JobPage>;
  /** Moves a job to `to` if its current status allows it; throws `TransitionRejected` otherwise. */
  transition(jobId: string, to: JobStatus, fields?: TransitionFields): Promise<Job>;
  /**
   * Every job still `status` (pending or running) created before `before`, oldest first, read
   * `pageSize` at a time: a sweep that stopped at a page would never reach the newer stuck jobs
   * behind many long-running ones.
   */
  listActive(status: 'pending' | 'running', before: string, pageSize?: number): Promise<Job[]>;
  /** Records what a job cancelled while running had done: its counts and finished shards' outputs. */
  recordCancellation(jobId: string, done: { counts: Job['counts']; partialOutputs: string[] }): Promise<Job>;
  /**
   * A failed job back to running, for a resume: its error and end cleared, `resumedAt` set. Only
   * from failed (TransitionRejected otherwise): the one move back the job's statuses allow.
   */
  reopen(jobId: string, resumedAt: string): Promise<Job>;
  /** Records a running job's shard count and record total, once its input is planned. */
  recordPlan(jobId: string, plan: PlanSummary): Promise<void>;
  /** Records what the job used (instance time per Batch attempt), for its cost; a later record replaces it. */
  recordUsage(jobId: string, usage: JobUsage): Promise<void>;
}

/** What planning tells the job: its shards, its size, and its record total when it was counted. */
export interface PlanSummary {
  shardCount: number;
  totalRecords?: number;
  inputBytes?: number;
}
