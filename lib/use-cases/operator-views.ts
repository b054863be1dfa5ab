/**
 * What the console shows an operator beyond a job's status: the execution state by state, the
 * shards, worker logs, the first lines of the outputs, the queues. Each reads the caller's own
 * job only (another owner's is as absent as a missing one). The zod schemas below are the
 * operator API's answers (lib/openapi) and the return types of the functions that build them.
 */
import { z } from 'zod';
import { executionSummarySchema, summarizeExecution } from '../domain/execution-history';
import { jobErrorSchema } from '../domain/job-view';
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

const exampleJobId = '0b5e6f7a-3c1d-4e2f-9a8b-7c6d5e4f3a2b';

/** `GET /ops/state-machine`: the ASL definition as deployed. */
export const stateMachineViewSchema = z
  .strictObject({
    name: z.literal('inference-job'),
    definition: z.looseObject({ StartAt: z.string(), States: z.record(z.string(), z.unknown()) }).meta({
      description:
        'The Amazon States Language definition (its Resource fields are CloudFormation references).',
    }),
  })
  .meta({ id: 'StateMachine' });
export type StateMachineView = z.output<typeof stateMachineViewSchema>;

/** `GET /ops/jobs/{jobId}/execution`. */
export const executionViewSchema = z
  .strictObject({
    jobId: z.string(),
    executionArn: z
      .string()
      .nullable()
      .meta({ description: 'Null until dispatch has started the execution.' }),
    execution: executionSummarySchema.nullable(),
    message: z
      .string()
      .nullable()
      .meta({ description: 'Why there is no execution, or no state in its history, to show.' }),
  })
  .meta({ id: 'JobExecution', description: 'The job’s Step Functions execution, state by state.' });
export type ExecutionView = z.output<typeof executionViewSchema>;

const shardRowViewSchema = z
  .strictObject({
    index: z.number().int(),
    status: z.enum(['pending', 'running', 'succeeded', 'failed']),
    attempt: z.number().int().meta({ description: 'Batch attempt (0 for a shard not yet started).' }),
    retried: z.boolean(),
    processed: z.number().int().optional(),
    succeeded: z.number().int().optional(),
    failed: z.number().int().optional(),
    recordsPerSecond: z.number().nullable().optional(),
    startedAt: z.string().nullable().optional(),
    updatedAt: z.string().optional(),
    error: jobErrorSchema.nullable().optional(),
  })
  .meta({
    id: 'ShardView',
    description:
      'One shard. A shard not yet started (no row yet) has only index, status, attempt and retried.',
  });

/** `GET /ops/jobs/{jobId}/shards`. */
export const shardsViewSchema = z
  .strictObject({
    jobId: z.string(),
    shardCount: z.number().int().nullable().meta({ description: 'Null until the input is planned.' }),
    shards: z.array(shardRowViewSchema),
  })
  .meta({
    id: 'JobShards',
    example: {
      jobId: exampleJobId,
      shardCount: 2,
      shards: [
        {
          index: 0,
          status: 'succeeded',
          attempt: 1,
          retried: false,
          processed: 1200,
          succeeded: 1200,
          failed: 0,
          recordsPerSecond: 2400,
          startedAt: '2026-01-05T10:00:01.000Z',
          updatedAt: '2026-01-05T10:00:01.500Z',
          error: null,
        },
        { index: 1, status: 'pending', attempt: 0, retried: false },
      ],
    },
  });
export type ShardsView = z.output<typeof shardsViewSchema>;

/** `GET /ops/jobs/{jobId}/shards/{shard}/logs`. */
export const shardLogsViewSchema = z
  .strictObject({
    jobId: z.string(),
    shard: z.number().int(),
    attempts: z.array(
      z.strictObject({
        attempt: z.number().int(),
        source: z.string().meta({ description: 'The log file the lines come from.' }),
        lines: z.array(z.string()).meta({ description: 'The attempt’s last lines (at most 200).' }),
        truncated: z.boolean(),
      }),
    ),
  })
  .meta({ id: 'ShardLogs', description: 'The worker’s log of each attempt of the shard (local runtime).' });
export type ShardLogsView = z.output<typeof shardLogsViewSchema>;

const objectHeadSchema = z.strictObject({
  uri: z.string(),
  exists: z.boolean(),
  lines: z.array(z.string()),
  truncated: z.boolean().meta({ description: 'More lines (or bytes) follow those shown.' }),
});

/** `GET /ops/jobs/{jobId}/outputs`. */
export const outputHeadsViewSchema = z
  .strictObject({ jobId: z.string(), output: objectHeadSchema, failures: objectHeadSchema })
  .meta({
    id: 'JobOutputHeads',
    description: 'The first lines of the job’s output and failure files (at most 16 KiB read of each).',
  });
export type OutputHeadsView = z.output<typeof outputHeadsViewSchema>;

const queueDepthSchema = z.strictObject({
  visible: z.number().int(),
  inFlight: z.number().int(),
  delayed: z.number().int(),
});
const batchResourceSchema = z.strictObject({ name: z.string(), state: z.string(), status: z.string() });

/** `GET /ops/queues`. */
export const queuesViewSchema = z
  .strictObject({
    jobsQueue: queueDepthSchema.extend({
      pendingJobs: z.number().int().meta({ description: 'Pending jobs (at most 100 counted).' }),
      oldestPendingSeconds: z.number().int().nullable(),
    }),
    deadLetterQueue: queueDepthSchema.extend({
      messages: z.array(
        z.strictObject({
          messageId: z.string(),
          jobId: z.string().nullable(),
          sentAt: z.string().nullable(),
          receiveCount: z.number().int(),
        }),
      ),
    }),
    batch: z.strictObject({
      runnable: z.array(
        z.strictObject({ batchJobId: z.string(), jobName: z.string(), waitingSeconds: z.number() }),
      ),
      queues: z.array(batchResourceSchema),
      computeEnvironments: z.array(
        batchResourceSchema.extend({ desiredvCpus: z.number(), maxvCpus: z.number() }),
      ),
    }),
  })
  .meta({
    id: 'Queues',
    description: 'Jobs waiting for dispatch, the dead-letter queue, and Batch jobs waiting RUNNABLE.',
  });
export type QueuesView = z.output<typeof queuesViewSchema>;

/** The execution of the job, state by state, from GetExecutionHistory. */
export const executionOf = async (
  ownerId: string,
  jobId: string,
  deps: { store: Pick<JobStore, 'get'>; history: ExecutionHistoryReader },
): Promise<ExecutionView> => {
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
): Promise<ShardsView> => {
  const job = await getOwnedJob(ownerId, jobId, deps.store);
  const rows = job.shardCount ? await deps.progress.listFor(jobId) : [];
  const byIndex = new Map(rows.map((row) => [row.index, row]));
  return {
    jobId,
    shardCount: job.shardCount ?? null,
    shards: Array.from({ length: job.shardCount ?? 0 }, (_, index) => {
      const row = byIndex.get(index);
      if (!row) return { index, status: 'pending', attempt: 0, retried: false };
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
): Promise<OutputHeadsView> => {
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
): Promise<QueuesView> => {
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
