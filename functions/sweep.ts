import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { intEnv } from '../lib/config';
import { SnsJobEventPublisher } from '../lib/jobs/job-events';
import { SqsJobQueue } from '../lib/jobs/job-queue';
import { DynamoJobStore } from '../lib/jobs/job-store';
import { StepFunctionsExecutionLookup, sweepStuckJobs } from '../lib/jobs/sweep';
import { logger } from '../lib/logger';

const deps = {
  store: new DynamoJobStore(),
  queue: new SqsJobQueue(),
  executions: new StepFunctionsExecutionLookup(),
  events: new SnsJobEventPublisher(),
};

/** Every few minutes: re-enqueue pending jobs that lost their message, reconcile jobs whose execution ended. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async () => {
    const swept = await sweepStuckJobs({ ...deps, graceMs: intEnv('SWEEP_GRACE_SECONDS', 300) * 1000 });
    logger.info('Swept', swept);
    return swept;
  });
