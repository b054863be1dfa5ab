import { markJobRunning } from '../lib/jobs/run-steps';
import { awsStepDeps } from '../lib/jobs/step-deps';
import { taskHandler } from './middleware';

/** State "Mark job running": PENDING → RUNNING, and what the worker needs to know. */
export const handler = taskHandler(async (event: { jobId: string; executionArn: string }) =>
  markJobRunning(event.jobId, event.executionArn, awsStepDeps()),
);
