import { AwsBatchJobTerminator } from '../lib/aws/batch';
import { StepFunctionsExecutionStopper } from '../lib/aws/step-functions';
import { cancelJob } from '../lib/use-cases/cancel-job';
import { priceTable, resources } from '../lib/config';
import { SnsJobEventPublisher } from '../lib/aws/sns';
import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { jobView } from '../lib/domain/job-view';
import { DynamoShardProgressStore } from '../lib/aws/dynamodb/shard-progress-store';
import { logger } from '../lib/logger';
import { recordUsageQuietly } from './record-usage';
import { apiBaseUrl, httpHandler, json, ownerOf } from './middleware';

const deps = {
  store: new DynamoJobStore(),
  executions: new StepFunctionsExecutionStopper(),
  batch: new AwsBatchJobTerminator(),
  progress: new DynamoShardProgressStore(),
  events: new SnsJobEventPublisher(),
  recordUsage: recordUsageQuietly,
};

/** POST /jobs/{jobId}/cancel: stops a pending or running job; repeating it is harmless. */
export const handler = httpHandler(async (event) => {
  const ownerId = ownerOf(event);
  const jobId = event.pathParameters?.jobId ?? '';
  const { job, alreadyCancelled } = await cancelJob(ownerId, jobId, {
    ...deps,
    outputsBucket: resources.outputsBucket(),
  });
  logger.info(alreadyCancelled ? 'Job was already cancelled' : 'Job cancelled', { jobId });
  return json(200, jobView(job, apiBaseUrl(event), priceTable()));
});
