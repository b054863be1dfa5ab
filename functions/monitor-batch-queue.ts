import { oldestRunnableAgeSeconds } from '../lib/aws/batch';
import { batchClient } from '../lib/aws/clients';
import { requireEnv } from '../lib/config';
import { logger } from '../lib/logger';
import { MetricUnit, metrics } from '../lib/metrics';
import { eventHandler } from './middleware';

/** Every few minutes: how long the oldest RUNNABLE Batch job has waited, for the RUNNABLE alarm. */
export const handler = eventHandler(
  async () => {
    const jobQueue = requireEnv('BATCH_JOB_QUEUE');
    const age = await oldestRunnableAgeSeconds(batchClient.get(), jobQueue);
    metrics.addDimension('JobQueue', jobQueue.split('/').pop() ?? jobQueue);
    metrics.addMetric('OldestRunnableJobAgeSeconds', MetricUnit.Seconds, age);
    logger.info('Oldest RUNNABLE job', { jobQueue, ageSeconds: age });
  },
  { metrics: true },
);
