import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { batchClient } from '../lib/aws/clients';
import { requireEnv } from '../lib/config';
import { logger } from '../lib/logger';
import { MetricUnit, metrics } from '../lib/metrics';
import { oldestRunnableAgeSeconds } from '../lib/operations/runnable-jobs';

/** Every few minutes: how long the oldest RUNNABLE Batch job has waited, for the RUNNABLE alarm. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async () => {
    const jobQueue = requireEnv('BATCH_JOB_QUEUE');
    const age = await oldestRunnableAgeSeconds(batchClient.get(), jobQueue);
    metrics.addDimension('JobQueue', jobQueue.split('/').pop() ?? jobQueue);
    metrics.addMetric('OldestRunnableJobAgeSeconds', MetricUnit.Seconds, age);
    logger.info('Oldest RUNNABLE job', { jobQueue, ageSeconds: age });
  });
