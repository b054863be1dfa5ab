import { plannedModelOf } from '../../domain/job-plan';
import type { JobPlan } from '../../domain/job-plan';
import { planLocationOf, reportLocationOf } from '../../domain/locations';
import { toS3Uri } from '../../domain/s3-location';
import type { PlanningReport } from '../../domain/job-failure';
import { JobCannotRun, LongtailError } from '../../errors';
import { logger } from '../../logger';
import { pinnedModelOf } from '../model-catalog';
import { buildJobPlan } from './job-planner';
import { isImageInput } from '../../models/manifest';
import { jobOrThrow } from './step-deps';
import type { StepDeps } from './step-deps';

/** What the Batch step needs: the plan's location and how many array children to run. */
export interface PlannedRun {
  shardCount: number;
  planUri: string;
}

/**
 * State "Plan the shards": plans the job's shards and stores the plan in S3. An input the job
 * cannot run on is reported (work/<jobId>/report.json) and raised as JobCannotRun, which the
 * state machine turns into a failed job with that report's code.
 */
export const planShards = async (jobId: string, deps: StepDeps): Promise<PlannedRun> => {
  const job = await jobOrThrow(jobId, deps.store);
  let plan: JobPlan;
  try {
    const model = await deps.models.pinned(pinnedModelOf(job));
    if (model?.status !== 'ready') {
      throw new LongtailError(
        'MODEL_NOT_FOUND',
        `Model ${job.model}:${job.modelVersion} is no longer served.`,
      );
    }
    plan = {
      ...(await buildJobPlan(
        job,
        {
          name: model.name,
          fields: model.manifest?.fields,
          imageField: model.manifest?.inputs.find(isImageInput)?.image.field,
        },
        deps,
      )),
      modelVersion: plannedModelOf(model),
    };
  } catch (error) {
    if (!(error instanceof LongtailError)) throw error;
    const report: PlanningReport = { status: 'failed', error: { code: error.code, message: error.message } };
    await deps.objects.putText(
      reportLocationOf(deps.outputsBucket, jobId),
      JSON.stringify(report),
      'application/json',
    );
    throw new JobCannotRun(error.code, error.message);
  }
  const location = planLocationOf(deps.outputsBucket, jobId);
  await deps.objects.putText(location, JSON.stringify(plan), 'application/json');
  await deps.store.recordPlan(jobId, {
    shardCount: plan.shards.length,
    ...(plan.totalRecords !== undefined ? { totalRecords: plan.totalRecords } : {}),
    inputBytes: plan.totalBytes,
  });
  logger.info('Job planned', {
    files: plan.files.length,
    shards: plan.shards.length,
    bytes: plan.totalBytes,
    records: plan.totalRecords ?? 'counted by the shards',
  });
  return { shardCount: plan.shards.length, planUri: toS3Uri(location) };
};
