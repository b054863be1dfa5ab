import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { SnsJobEventPublisher } from '../lib/jobs/job-events';
import { DynamoJobStore } from '../lib/jobs/job-store';
import { reconcileEndedExecution } from '../lib/jobs/reconcile';
import type { EndedExecution } from '../lib/jobs/reconcile';
import { logger } from '../lib/logger';
import { metrics, recordJobEnded } from '../lib/metrics';

const deps = { store: new DynamoJobStore(), events: new SnsJobEventPublisher() };

/**
 * EventBridge "Step Functions Execution Status Change" (FAILED, TIMED_OUT, ABORTED) for the
 * inference-job state machine: no job stays running after its execution ended.
 */
export const handler = middy<EventBridgeEvent<'Step Functions Execution Status Change', EndedExecution>>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    logger.appendKeys({ jobId: event.detail.name, executionArn: event.detail.executionArn });
    const ended = await reconcileEndedExecution(event.detail, deps);
    if (ended) {
      recordJobEnded(ended);
      metrics.publishStoredMetrics();
    }
  });
