import { DynamoModelRegistry } from '../../lib/aws/dynamodb/model-registry';
import { S3ObjectStore } from '../../lib/aws/s3';
import { requireEnv } from '../../lib/config';
import { checkModelVariable } from '../../lib/domain/model-version';
import { locationOf } from '../../lib/domain/s3-location';
import { LongtailError } from '../../lib/errors';
import type { JobError, RecordCounts } from '../../lib/domain/job';
import { batchSizeOf } from '../../lib/domain/job-options';
import type { ReadPosition } from '../../lib/records/record-boundary';
import type { JobPlan } from '../../lib/domain/job-plan';
import { DynamoShardProgressStore } from '../../lib/aws/dynamodb/shard-progress-store';
import { workerErrorCodes } from '../../lib/domain/worker-output';
import { attemptAfter } from '../../lib/domain/shard-progress';
import { logger } from '../../lib/logger';
import { checkRegisteredModel } from './check-model';
import { loadModelFiles } from './model-loader';
import { runPlannedShard } from './run-shard';
import { openShardModel } from './shard-model';
import { selfCheck } from './self-check';
import { readSettings } from './settings';
import type { WorkerSettings } from './settings';
import { cachedModelFolder } from './model-cache';
import { modelCacheSettings } from './model-cache-settings';
import { openServedModel } from './served-model';

const errorOf = (error: unknown): JobError =>
  error instanceof LongtailError
    ? { code: error.code, message: error.message }
    : {
        code: workerErrorCodes.internal,
        message: `The worker failed: ${(error as Error).message ?? String(error)}`,
      };

/**
 * The model a plan pinned, from this host's model cache (fetched from the registry's bucket once
 * per host and version) and opened; a plan made before the
 * registry names a model installed in the image (LONGTAIL_MODELS_DIR) instead.
 */
const openPlannedModel = async (plan: JobPlan, settings: WorkerSettings, objects: S3ObjectStore) => {
  const options = {
    lanes: settings.LONGTAIL_INFERENCE_LANES,
    preprocessThreads: settings.LONGTAIL_PREPROCESS_THREADS,
    batchSize: batchSizeOf(plan.options),
    cpuMaxBatch: settings.LONGTAIL_CPU_MAX_BATCH,
  };
  if (plan.modelVersion) {
    const folder = await cachedModelFolder(plan.modelVersion, { ...modelCacheSettings(), objects });
    return openServedModel(plan.modelVersion, folder, settings.LONGTAIL_EXECUTION_PROVIDER, options);
  }
  const files = await loadModelFiles(settings.LONGTAIL_MODELS_DIR, plan.model);
  const opened = await openShardModel(files, settings.LONGTAIL_EXECUTION_PROVIDER, options);
  return { ...opened, served: { name: files.manifest.name, manifest: files.manifest } };
};

/**
 * The Longtail worker: one process runs one shard of one job, as AWS Batch starts it. Its shard
 * row says how it went. Exit 0 when the shard succeeded, 1 when it cannot (Batch does not retry
 * that), 143 on SIGTERM (Batch or a Spot reclaim stopping it; the retry strategy runs it again).
 */
const runJob = async (): Promise<number> => {
  const settings = readSettings();
  const shardIndex = settings.AWS_BATCH_JOB_ARRAY_INDEX;
  logger.appendKeys({
    jobId: settings.LONGTAIL_JOB_ID,
    shard: shardIndex,
    batchJobId: settings.AWS_BATCH_JOB_ID,
    attempt: settings.AWS_BATCH_JOB_ATTEMPT,
  });
  const objects = new S3ObjectStore();
  const progress = new DynamoShardProgressStore(undefined, () => settings.JOBS_TABLE);
  const planLocation = locationOf(settings.LONGTAIL_PLAN_URI);
  let read: ReadPosition | undefined;
  // A resumed job (a restarted local runtime, a redriven execution) submits a new Batch job for
  // all its shards: one whose shard already succeeded keeps that shard's output and stops here.
  const previous = await progress.get(settings.LONGTAIL_JOB_ID, shardIndex);
  if (previous?.status === 'succeeded') {
    logger.info('Shard already succeeded in an earlier run; its output stands', {
      previousAttempt: previous.attempt,
    });
    return 0;
  }
  const attempt = attemptAfter(previous?.attempt, settings.AWS_BATCH_JOB_ATTEMPT);
  const startedAt = new Date().toISOString();
  const report = (status: 'running' | 'succeeded' | 'failed', counts: RecordCounts, error?: JobError) =>
    progress.report(settings.LONGTAIL_JOB_ID, {
      index: shardIndex,
      status,
      attempt,
      processed: counts.succeeded + counts.failed,
      succeeded: counts.succeeded,
      failed: counts.failed,
      ...(read ? { bytes: read.bytes, lines: read.lines } : {}),
      ...(error ? { error } : {}),
      updatedAt: new Date().toISOString(),
      startedAt,
    });

  let counts: RecordCounts = { total: 0, succeeded: 0, failed: 0 };
  try {
    await report('running', counts);
    const plan = await objects.readJson<JobPlan>(planLocation);
    const shard = plan?.shards[shardIndex];
    if (!plan || !shard) throw new Error(`No shard ${shardIndex} in ${settings.LONGTAIL_PLAN_URI}`);
    const opened = await openPlannedModel(plan, settings, objects);
    logger.info('Model loaded', {
      model: opened.served.name,
      version: plan.modelVersion?.version,
      provider: opened.provider,
      lanes: opened.lanes,
      preprocessThreads: opened.preprocessThreads,
      shardBytes: shard.end - shard.start,
    });
    counts = await runPlannedShard({
      plan,
      shard,
      served: opened.served,
      model: opened.model,
      objects,
      outputsBucket: planLocation.bucket,
      onProgress: async (soFar, position) => {
        counts = soFar;
        read = position;
        await report('running', soFar);
      },
    });
    await opened.close();
    await report('succeeded', counts);
    return 0;
  } catch (error) {
    logger.error('Shard failed', { error: error as Error });
    await report('failed', counts, errorOf(error));
    return 1;
  }
};

// Locally the worker is a child of the runtime: if the runtime dies (kill -9, a crash), the
// worker stops too rather than writing on under the attempt the restarted runtime starts.
const parentPid = Number(process.env.LONGTAIL_EXIT_WITH_PARENT ?? 0);
if (parentPid > 0) {
  setInterval(() => {
    if (process.ppid !== parentPid) process.exit(143);
  }, 500).unref();
}

process.on('SIGTERM', () => {
  logger.warn('SIGTERM received; stopping so that Batch can retry the shard');
  process.exit(143);
});

const checkModel = () =>
  checkRegisteredModel(process.env[checkModelVariable] ?? '', {
    registry: new DynamoModelRegistry(undefined, () => requireEnv('MODELS_TABLE')),
    objects: new S3ObjectStore(),
  });

const main = process.argv.includes('--self-check')
  ? selfCheck
  : process.env[checkModelVariable]
    ? checkModel
    : runJob;
main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    logger.error('Worker crashed', { error: error as Error });
    process.exitCode = 1;
  },
);
