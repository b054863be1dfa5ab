import { planJobStep } from '../lib/jobs/run-steps';
import { awsStepDeps } from '../lib/jobs/step-deps';
import { taskHandler } from './middleware';

/** State "Plan the shards": input files, byte ranges per array child, the plan in S3. */
export const handler = taskHandler(async (event: { jobId: string }) =>
  planJobStep(event.jobId, awsStepDeps()),
);
