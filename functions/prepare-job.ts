import { markJobRunning } from '../lib/jobs/run-steps';
import { awsStepDeps } from '../lib/jobs/step-deps';
import { taskHandler } from './middleware';

/** State "Mark job running": PENDING → RUNNING, recording the execution. */
export const handler = taskHandler(async (event: { jobId: string; executionArn: string }) =>
  markJobRunning(event.jobId, event.executionArn, awsStepDeps()),
);
