import { z } from 'zod';
import { jobStatuses } from './job';
import type { Job } from './job';
import { costViewSchema, costViewOf } from './cost';
import type { PriceTable } from './cost';
import { jobOptionsSchema } from './job-options';

/**
 * What the API answers about jobs, as zod schemas: the one source of the response types below,
 * of the OpenAPI document (lib/openapi) and of the typed client generated from it.
 */

const isoTime = z.iso.datetime({ offset: true });
const s3Uri = z.string().startsWith('s3://');

export const jobErrorSchema = z.strictObject({ code: z.string(), message: z.string() });

export const shardSummarySchema = z
  .strictObject({
    total: z.number().int(),
    pending: z.number().int(),
    running: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    stopped: z.number().int().meta({
      description: 'Shards that had not finished when the job failed or was cancelled: they never will.',
    }),
  })
  .meta({ id: 'ShardSummary', description: 'How many of the job’s shards are in each state.' });

export const webhookAttemptSchema = z
  .strictObject({
    at: isoTime,
    webhookId: z.string(),
    attempt: z.number().int().min(1),
    ok: z.boolean(),
    status: z.number().int().optional(),
    error: z.string().optional(),
    durationMs: z.number(),
  })
  .meta({ id: 'WebhookAttempt' });

export const jobInputViewSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('records'), recordCount: z.number().int().min(1) }),
  z.strictObject({
    type: z.literal('s3'),
    s3Uri,
    s3DataType: z.enum(['S3Object', 'S3Prefix', 'ManifestFile']),
  }),
]);

const exampleJobId = '0b5e6f7a-3c1d-4e2f-9a8b-7c6d5e4f3a2b';
const exampleStatusUrl = `https://api.example.com/jobs/${exampleJobId}`;

export const jobViewSchema = z
  .strictObject({
    jobId: z.string(),
    status: z.enum(jobStatuses),
    model: z.string(),
    modelVersion: z.string(),
    modelChecksum: z.string().nullable(),
    input: jobInputViewSchema,
    options: jobOptionsSchema,
    source: z.enum(['api', 's3-drop', 'retry-failed']),
    parentJobId: z.string().nullable(),
    outputUri: s3Uri,
    failureUri: s3Uri,
    counts: z.strictObject({
      total: z.number().int().nullable().meta({
        description:
          'Records in the input; `null` while a job runs whose input planning did not count (over 64 MiB): see `bytes`.',
      }),
      succeeded: z.number().int(),
      failed: z.number().int(),
    }),
    shards: shardSummarySchema.nullable(),
    bytes: z.strictObject({ read: z.number().int(), total: z.number().int() }).nullable().meta({
      description:
        'Input bytes the shards have read, of the input’s size: progress when `counts.total` is unknown.',
    }),
    createdAt: isoTime,
    startedAt: isoTime.nullable(),
    completedAt: isoTime.nullable(),
    error: jobErrorSchema.nullable(),
    cancelRequestedAt: isoTime.nullable(),
    partialOutputs: z.array(s3Uri).nullable(),
    executionArn: z.string().nullable(),
    consoleUrl: z.string().nullable(),
    webhookUrl: z.string().nullable(),
    webhookAttempts: z.array(webhookAttemptSchema),
    statusUrl: z.string(),
    cost: costViewSchema,
  })
  .meta({
    id: 'Job',
    description: 'A job: its status, counts, where its outputs go, and links. `shards` only while it runs.',
    example: {
      jobId: exampleJobId,
      status: 'completed',
      model: 'churn-risk',
      modelVersion: '1',
      modelChecksum: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      input: { type: 'records', recordCount: 2 },
      options: {
        splitType: 'Line',
        batchStrategy: 'MultiRecord',
        maxPayloadMB: 6,
        maxBatchSize: 64,
        joinSource: 'None',
        csvHeader: 'auto',
        maxFailedRecordsPercent: 100,
        shardSizeMB: 64,
        maxShards: 100,
        maxObjectsPerShard: 10000,
        objectOutputs: 'joined',
      },
      source: 'api',
      parentJobId: null,
      outputUri: `s3://longtail-outputs/outputs/${exampleJobId}/records.jsonl.out`,
      failureUri: `s3://longtail-outputs/outputs/${exampleJobId}/records.jsonl.out.failed`,
      counts: { total: 2, succeeded: 2, failed: 0 },
      bytes: null,
      shards: null,
      createdAt: '2026-01-05T10:00:00.000Z',
      startedAt: '2026-01-05T10:00:01.000Z',
      completedAt: '2026-01-05T10:00:04.000Z',
      error: null,
      cancelRequestedAt: null,
      partialOutputs: null,
      executionArn: null,
      consoleUrl: null,
      webhookUrl: null,
      webhookAttempts: [],
      statusUrl: exampleStatusUrl,
      cost: {
        instanceType: 'g4dn.xlarge',
        gpuSeconds: 2.4,
        attempts: 1,
        measuredBy: 'aws-batch',
        gpu: { onDemand: 0.00035, spot: 0.00013 },
        fixed: 0.00023,
        total: { onDemand: 0.00058, spot: 0.00036 },
        currency: 'USD',
        pricesRegion: 'us-east-1',
      },
    },
  });
export type JobView = z.output<typeof jobViewSchema>;
export type ShardSummaryView = z.output<typeof shardSummarySchema>;

/** 202 to `POST /jobs` and `POST /jobs/{jobId}/retry-failed`: where to watch the job. */
export const jobAcceptedSchema = z
  .strictObject({
    jobId: z.string(),
    parentJobId: z.string().optional(),
    status: z.enum(jobStatuses),
    statusUrl: z.string(),
    outputUri: s3Uri,
    webhookSecret: z
      .string()
      .optional()
      .meta({ description: 'The secret the job’s webhooks are signed with; shown only here.' }),
  })
  .meta({
    id: 'JobAccepted',
    example: {
      jobId: exampleJobId,
      status: 'pending',
      statusUrl: exampleStatusUrl,
      outputUri: `s3://longtail-outputs/outputs/${exampleJobId}/records.jsonl.out`,
    },
  });
export type JobAccepted = z.output<typeof jobAcceptedSchema>;

/** `GET /jobs`'s query string. */
export const listJobsQuerySchema = z.strictObject({
  status: z.enum(jobStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).optional().meta({ description: 'The `nextCursor` of the previous page.' }),
});

export const jobListSchema = z
  .strictObject({
    jobs: z.array(jobViewSchema),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` for the next page; null at the end.' }),
  })
  .meta({ id: 'JobList' });

/** The execution's page in the Step Functions console; none locally, where there is no console. */
export const consoleUrlOf = (executionArn: string | undefined): string | null => {
  if (!executionArn || process.env.LONGTAIL_CONSOLE_LINKS === 'false') return null;
  const region = executionArn.split(':')[3];
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
};

/** Live progress of a running job, summed from its shards' rows. */
export interface JobProgress {
  succeeded: number;
  failed: number;
  /** Input bytes the shards have read. */
  bytes?: number;
  shards: ShardSummaryView;
}

/**
 * While a job runs, its record total is unknown when planning did not count it (`null`); bytes
 * read of the input's size say how far it is either way.
 */
const runningCountsOf = (job: Job, progress: JobProgress) => ({
  total: job.recordsCounted === false ? null : job.counts.total,
  succeeded: progress.succeeded,
  failed: progress.failed,
});

/**
 * What the API shows of a job: the record, minus storage details, plus links and, once it has
 * ended, its cost at `prices`. While it runs, the counts come from its shards' progress.
 */
export const jobView = (
  job: Job,
  apiBaseUrl: string,
  prices: PriceTable,
  progress?: JobProgress,
): JobView => ({
  jobId: job.jobId,
  status: job.status,
  model: job.model,
  modelVersion: job.modelVersion,
  modelChecksum: job.modelChecksum ?? null,
  input: job.input,
  options: job.options,
  source: job.source,
  parentJobId: job.parentJobId ?? null,
  outputUri: job.outputUri,
  failureUri: job.failureUri,
  counts: job.status === 'running' && progress ? runningCountsOf(job, progress) : job.counts,
  shards: progress?.shards ?? null,
  bytes:
    job.inputBytes !== undefined
      ? {
          read: job.status === 'completed' ? job.inputBytes : Math.min(progress?.bytes ?? 0, job.inputBytes),
          total: job.inputBytes,
        }
      : null,
  createdAt: job.createdAt,
  startedAt: job.startedAt ?? null,
  completedAt: job.completedAt ?? null,
  error: job.error ?? null,
  cancelRequestedAt: job.cancelRequestedAt ?? null,
  partialOutputs: job.partialOutputs ?? null,
  executionArn: job.executionArn ?? null,
  consoleUrl: consoleUrlOf(job.executionArn),
  webhookUrl: job.webhookUrl ?? null,
  webhookAttempts: job.webhookAttempts ?? [],
  statusUrl: statusUrlOf(apiBaseUrl, job.jobId),
  cost: costViewOf(job.usage, prices),
});

export const statusUrlOf = (apiBaseUrl: string, jobId: string) => `${apiBaseUrl}/jobs/${jobId}`;

/** The webhook secret, for the answer to the request that made the job (never in its status). */
export const webhookSecretOf = (job: Job) => (job.webhookSecret ? { webhookSecret: job.webhookSecret } : {});
