import { planShards } from '../lib/use-cases/steps/plan-shards';
import { awsStepDeps } from './step-deps';
import { taskHandler } from './middleware';

/** State "Plan the shards": input files, byte ranges per array child, the plan in S3. */
export const handler = taskHandler(async (event: { jobId: string }) =>
  planShards(event.jobId, awsStepDeps()),
);
