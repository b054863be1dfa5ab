import { S3ObjectStore, locationOf } from '../../lib/aws/object-store';
import { logger } from '../../lib/logger';
import { openSession } from './execution-provider';
import { loadModelFiles } from './model-loader';
import { reportOf, runShard } from './run-shard';
import { selfCheck } from './self-check';
import { readSettings } from './settings';

/**
 * The Longtail worker: one process runs one shard of one job, as AWS Batch starts it.
 * Exit 0 when the shard's report says succeeded, 1 when it says failed, 143 on SIGTERM
 * (Batch or a Spot reclaim stopping it; the retry strategy runs it again).
 */
const runJob = async (): Promise<number> => {
  const started = Date.now();
  const settings = readSettings();
  logger.appendKeys({
    jobId: settings.LONGTAIL_JOB_ID,
    batchJobId: settings.AWS_BATCH_JOB_ID,
    attempt: settings.AWS_BATCH_JOB_ATTEMPT,
  });
  const objects = new S3ObjectStore();
  let report;
  try {
    const { manifest, onnxPath } = await loadModelFiles(
      settings.LONGTAIL_MODELS_DIR,
      settings.LONGTAIL_MODEL,
    );
    const loaded = await openSession(onnxPath, settings.LONGTAIL_EXECUTION_PROVIDER);
    logger.info('Model loaded', { model: manifest.name, provider: loaded.provider });
    const counts = await runShard(
      {
        inputUri: settings.LONGTAIL_INPUT_URI,
        outputUri: settings.LONGTAIL_OUTPUT_URI,
        failureUri: settings.LONGTAIL_FAILURE_URI,
        batchSize: settings.LONGTAIL_BATCH_SIZE,
      },
      manifest,
      loaded,
      objects,
    );
    report = reportOf({ counts, provider: loaded.provider, durationMs: Date.now() - started });
  } catch (error) {
    logger.error('Shard failed', { error: error as Error });
    report = reportOf({ error });
  }
  await objects.putText(locationOf(settings.LONGTAIL_REPORT_URI), JSON.stringify(report), 'application/json');
  return report.status === 'succeeded' ? 0 : 1;
};

process.on('SIGTERM', () => {
  logger.warn('SIGTERM received; stopping so that Batch can retry the shard');
  process.exit(143);
});

const main = process.argv.includes('--self-check') ? selfCheck : runJob;
main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    logger.error('Worker crashed', { error: error as Error });
    process.exitCode = 1;
  },
);
