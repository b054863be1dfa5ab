import { markJobFailed } from '../lib/use-cases/steps/mark-job-failed';
import type { CaughtError } from '../lib/domain/job-failure';
import { awsStepDeps } from './step-deps';
import { logger } from '../lib/logger';
import { recordJobEnded } from '../lib/metrics';
import { taskHandler } from './middleware';
import { recordUsageQuietly } from './record-usage';

/** State "Mark job failed": the reason as an error code, → FAILED, the failure event. */
export const handler = taskHandler(
  async (event: { jobId: string; error: CaughtError }) => {
    const jobEvent = await markJobFailed(event.jobId, event.error, awsStepDeps());
    await recordUsageQuietly(event.jobId);
    logger.warn('Job failed', { error: jobEvent.error, caught: event.error.Error });
    recordJobEnded(jobEvent);
    return jobEvent;
  },
  { metrics: true },
);
