import { completeJob } from '../lib/jobs/run-steps';
import { awsStepDeps } from '../lib/jobs/step-deps';
import { logger } from '../lib/logger';
import { recordJobEnded } from '../lib/metrics';
import { taskHandler } from './middleware';

/** State "Record results and complete job": the worker's counts, RUNNING → COMPLETED, the event. */
export const handler = taskHandler(
  async (event: { jobId: string }) => {
    const jobEvent = await completeJob(event.jobId, awsStepDeps());
    logger.info('Job completed', { counts: jobEvent.counts });
    recordJobEnded(jobEvent);
    return jobEvent;
  },
  { metrics: true },
);
