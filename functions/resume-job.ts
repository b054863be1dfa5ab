import { priceTable } from '../lib/config';
import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { StepFunctionsExecutionLookup, StepFunctionsExecutionRedriver } from '../lib/aws/step-functions';
import { jobView } from '../lib/domain/job-view';
import { resumeJob } from '../lib/use-cases/resume-job';
import { apiBaseUrl, httpHandler, json, ownerOf } from './middleware';

const redriver = new StepFunctionsExecutionRedriver();
const lookup = new StepFunctionsExecutionLookup();
const deps = {
  store: new DynamoJobStore(),
  executions: {
    redrive: (executionArn: string) => redriver.redrive(executionArn),
    describe: (executionArn: string) => lookup.describe(executionArn),
  },
};

/** POST /jobs/{jobId}/resume: a job failed for a curable reason goes on from where it stopped. */
export const handler = httpHandler(async (event) => {
  const job = await resumeJob(ownerOf(event), event.pathParameters?.jobId ?? '', deps);
  return json(202, jobView(job, apiBaseUrl(event), priceTable()));
});
