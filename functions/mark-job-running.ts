import { markJobRunning } from '../lib/use-cases/steps/mark-job-running';
import { awsStepDeps } from './step-deps';
import { taskHandler } from './middleware';

/** State "Mark job running": PENDING → RUNNING, recording the execution. */
export const handler = taskHandler(async (event: { jobId: string; executionArn: string }) =>
  markJobRunning(event.jobId, event.executionArn, awsStepDeps()),
);
