/**
 * What the console shows an operator beyond a job's status: the execution state by state, the
 * shards, worker logs, the first lines of the outputs, the queues. Each reads the caller's own
 * job only (another owner's is as absent as a missing one).
 */
import { summarizeExecution } from '../domain/execution-history';
import type { Job } from '../domain/job';
import { recordsPerSecondOf } from '../domain/shard-progress';
import { parseS3Uri } from '../domain/s3-location';
import { NotFound } from '../errors';
import type { BatchQueueReader } from '../ports/batch-jobs';
import type { ExecutionHistoryReader } from '../ports/executions';
import type { JobStore } from '../ports/job-store';
import type { QueueInspector } from '../ports/job-queue';
import type { ObjectStore } from '../ports/object-store';
import type { ShardProgressStore } from '../ports/shard-progress-store';
import { getOwnedJob } from './get-job';

/** The execution of the job, state by state, from GetExecutionHistory. */
export const executionOf = async (
  ownerId: string,
  jobId: string,
  deps: { store: Pick<JobStore, 'get'>; history: ExecutionHistoryReader },
) => {
  const job = await getOwnedJob(ownerId, jobId, deps.store);
  if (!job.executionArn) {
    return {
      jobId,
      executionArn: null,
      execution: null,
      message: `Job ${jobId} is ${job.status} and has no execution yet: dispatch starts one when it takes the job from the queue.`,
    };
  }
  const events = await deps.history.history(job.executionArn);
  if (!events) {
    throw new NotFound(
      'EXECUTION_HISTORY_GONE',
      `The history of job ${jobId}'s execution is gone (Step Functions keeps it 90 days after the end; a local data folder from before history was recorded has none). The job record still says: ${job.status}.`,
      { executionArn: job.executionArn },
    );
  }
  const execution = summarizeExecution(events);
  // A history with the execution's start and end but no state (kept by a runtime from before
  // state events were recorded) says nothing of where the job went: say so rather than show nothing.
  const message =
    execution.runs.length === 0 && execution.status !== 'RUNNING'
      ? `The history of job ${jobId}'s execution holds no state events (it was recorded before they were kept), only its ${execution.status.toLowerCase()} end.`
      : null;
  return { jobId, executionArn: job.executionArn, execution, message };
};

/** Each planned shard: its status, attempt, counts, records/s and error; a shard not yet started is pending. */
export const shardsOf = async (
  ownerId: string,
  jobId: string,
  deps: { store: Pick<JobStore, 'get'>; progress: ShardProgressStore },
) => {
  const job = await getOwnedJob(ownerId, jobId, deps.store);
  const rows = job.shardCount ? await deps.progress.listFor(jobId) : [];
  const byIndex = new Map(rows.map((row) => [row.index, row]));
  return {
    jobId,
    shardCount: job.shardCount ?? null,
    shards: Array.from({ length: job.shardCount ?? 0 }, (_, index) => {
      const row = byIndex.get(index);
      if (!row) return { index, status: 'pending' as const, attempt: 0, retried: false };
      return {
        index,
        status: row.status,
        attempt: row.attempt,
        retried: row.attempt > 1,
        processed: row.processed,
        succeeded: row.succeeded,
        failed: row.failed,
        recordsPerSecond: recordsPerSecondOf(row),
        startedAt: row.startedAt ?? null,
        updatedAt: row.updatedAt,
        error: row.error ?? null,
      };
    }),
  };
};

const headLinesOf = async (objects: ObjectStore, uri: string, maxLines: number, maxBytes: number) => {
  const location = parseS3Uri(uri);
  if (!location) return { uri, exists: false, lines: [], truncated: false };
  const info = await objects.head(location);
  if (!info) return { uri, exists: false, lines: [], truncated: false };
  if (info.size === 0) return { uri, exists: true, lines: [], truncated: false };
  const chunks: Buffer[] = [];
  for await (const chunk of await objects.openRange(location, 0, Math.min(info.size, maxBytes) - 1)) {
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  const lines = Buffer.concat(chunks).toString('utf8').split('\n');
  // The last line of a cut read is partial unless the read reached the end of the object.
  if (info.size > maxBytes) lines.pop();
  const kept = lines.filter((line, i) => line !== '' || i < lines.length - 1).slice(0, maxLines);
  return { uri, exists: true, lines: kept, truncated: info.size > maxBytes || lines.length > maxLines };
};

/** The first lines of the job's output and failure files (at most `maxBytes` read of each). */
export const outputHeadsOf = async (
  ownerId: string,
  jobId: string,
  deps: { store: Pick<JobStore, 'get'>; objects: ObjectStore },
  maxLines = 10,
  maxBytes = 16 * 1024,
) => {
  const job: Job = await getOwnedJob(ownerId, jobId, deps.store);
  const [output, failures] = await Promise.all([
    headLinesOf(deps.objects, job.outputUri, maxLines, maxBytes),
    headLinesOf(deps.objects, job.failureUri, maxLines, maxBytes),
  ]);
  return { jobId, output, failures };
};

/**
 * The queues: jobs waiting for dispatch (with the age of the oldest pending job), the
 * dead-letter queue's messages and their job ids, and Batch jobs waiting RUNNABLE.
 */
export const queuesOf = async (
  deps: { queues: QueueInspector; batch: BatchQueueReader; store: Pick<JobStore, 'listActive'> },
  now = Date.now(),
) => {
  const [jobs, deadLetter, deadLetters, runnable, capacity, pending] = await Promise.all([
    deps.queues.depth('jobs'),
    deps.queues.depth('deadLetter'),
    deps.queues.peekDeadLetters(10),
    deps.batch.runnable(now),
    deps.batch.capacity(),
    deps.store.listActive('pending', new Date(now).toISOString(), 100),
  ]);
  const oldest = pending[0];
  return {
    jobsQueue: {
      ...jobs,
      pendingJobs: pending.length,
      oldestPendingSeconds: oldest
        ? Math.max(0, Math.round((now - new Date(oldest.createdAt).getTime()) / 1000))
        : null,
    },
    deadLetterQueue: { ...deadLetter, messages: deadLetters },
    batch: { runnable, ...capacity },
  };
};
