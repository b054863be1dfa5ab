import { failJob } from '../lib/jobs/run-steps';
import type { CaughtError } from '../lib/jobs/run-steps';
import { awsStepDeps } from '../lib/jobs/step-deps';
import { logger } from '../lib/logger';
import { recordJobEnded } from '../lib/metrics';
import { taskHandler } from './middleware';

/** State "Mark job failed": the reason as an error code, → FAILED, the failure event. */
export const handler = taskHandler(
  async (event: { jobId: string; error: CaughtError }) => {
    const jobEvent = await failJob(event.jobId, event.error, awsStepDeps());
    logger.warn('Job failed', { error: jobEvent.error, caught: event.error.Error });
    recordJobEnded(jobEvent);
    return jobEvent;
  },
  { metrics: true },
);
