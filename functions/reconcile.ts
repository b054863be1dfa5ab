import type { EventBridgeEvent } from 'aws-lambda';
import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { SnsJobEventPublisher } from '../lib/aws/sns';
import { logger } from '../lib/logger';
import { metrics, recordJobEnded } from '../lib/metrics';
import { reconcileEndedExecution } from '../lib/use-cases/reconcile';
import type { EndedExecution } from '../lib/use-cases/reconcile';
import { eventHandler } from './middleware';

const deps = { store: new DynamoJobStore(), events: new SnsJobEventPublisher() };

/**
 * EventBridge "Step Functions Execution Status Change" (FAILED, TIMED_OUT, ABORTED) for the
 * inference-job state machine: no job stays running after its execution ended.
 */
export const handler = eventHandler(
  async (event: EventBridgeEvent<'Step Functions Execution Status Change', EndedExecution>) => {
    logger.appendKeys({ jobId: event.detail.name, executionArn: event.detail.executionArn });
    const ended = await reconcileEndedExecution(event.detail, deps);
    if (ended) {
      recordJobEnded(ended);
      // Published only when a job ended here: most events are executions the state machine already recorded.
      metrics.publishStoredMetrics();
    }
  },
);
