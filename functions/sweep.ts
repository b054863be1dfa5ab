import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { SnsJobEventPublisher } from '../lib/aws/sns';
import { SqsJobQueue } from '../lib/aws/sqs';
import { StepFunctionsExecutionLookup } from '../lib/aws/step-functions';
import { intEnv } from '../lib/config';
import { logger } from '../lib/logger';
import { sweepStuckJobs } from '../lib/use-cases/sweep';
import { eventHandler } from './middleware';

const deps = {
  store: new DynamoJobStore(),
  queue: new SqsJobQueue(),
  executions: new StepFunctionsExecutionLookup(),
  events: new SnsJobEventPublisher(),
};

/** Every few minutes: re-enqueue pending jobs that lost their message, reconcile jobs whose execution ended. */
export const handler = eventHandler(async () => {
  const swept = await sweepStuckJobs({ ...deps, graceMs: intEnv('SWEEP_GRACE_SECONDS', 300) * 1000 });
  logger.info('Swept', swept);
  return swept;
});
