import { failStuckRunnableJobs, oldestRunnableAgeSeconds } from '../lib/aws/batch';
import { batchClient } from '../lib/aws/clients';
import { intEnv, requireEnv } from '../lib/config';
import { logger } from '../lib/logger';
import { MetricUnit, metrics } from '../lib/metrics';
import { eventHandler } from './middleware';

/**
 * Every few minutes: how long the oldest RUNNABLE Batch job has waited, for the RUNNABLE alarm;
 * and, past RUNNABLE_FAIL_AFTER_SECONDS (unset or 0: never), fails jobs stuck while nothing runs.
 */
export const handler = eventHandler(
  async () => {
    const jobQueue = requireEnv('BATCH_JOB_QUEUE');
    const age = await oldestRunnableAgeSeconds(batchClient.get(), jobQueue);
    metrics.addDimension('JobQueue', jobQueue.split('/').pop() ?? jobQueue);
    metrics.addMetric('OldestRunnableJobAgeSeconds', MetricUnit.Seconds, age);
    logger.info('Oldest RUNNABLE job', { jobQueue, ageSeconds: age });
    const failed = await failStuckRunnableJobs(
      batchClient.get(),
      jobQueue,
      intEnv('RUNNABLE_FAIL_AFTER_SECONDS', 0),
    );
    if (failed.length > 0) logger.warn('Failed jobs stuck RUNNABLE', { jobQueue, batchJobIds: failed });
  },
  { metrics: true },
);
