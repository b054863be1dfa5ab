import { completeJob } from '../lib/use-cases/steps/complete-job';
import { awsStepDeps } from './step-deps';
import { logger } from '../lib/logger';
import { recordJobEnded } from '../lib/metrics';
import { taskHandler } from './middleware';
import { recordUsageQuietly } from './record-usage';

/** State "Record results and complete job": the worker's counts, RUNNING → COMPLETED, the event. */
export const handler = taskHandler(
  async (event: { jobId: string }) => {
    const jobEvent = await completeJob(event.jobId, awsStepDeps());
    await recordUsageQuietly(event.jobId);
    logger.info('Job completed', { counts: jobEvent.counts });
    recordJobEnded(jobEvent);
    return jobEvent;
  },
  { metrics: true },
);
