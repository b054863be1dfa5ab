import type { RecordCounts } from '../../domain/job';
import { jobEventOf } from '../../domain/job-event';
import type { JobEvent } from '../../domain/job-event';
import type { JobPlan } from '../../domain/job-plan';
import { metadataLocationOf, planLocationOf } from '../../domain/locations';
import { summarizeShards } from '../../domain/shard-progress';
import type { ShardProgress } from '../../domain/shard-progress';
import { AllRecordsFailed, TooManyFailedRecords, TransitionRejected } from '../../errors';
import { assembleOutputs } from './assemble-outputs';
import { nowOf } from './step-deps';
import type { StepDeps } from './step-deps';

/** The total is the plan's when planning counted the records, else what the shards read. */
const countsOf = (plan: JobPlan, rows: ShardProgress[]): RecordCounts => {
  const { succeeded, failed } = summarizeShards(rows, plan.shards.length);
  return { total: plan.totalRecords ?? succeeded + failed, succeeded, failed };
};

/** The outputs' `_metadata.json`: enough to tell, from the bucket alone, what made them. */
const writeMetadata = async (
  plan: JobPlan,
  counts: RecordCounts,
  rows: ShardProgress[],
  completedAt: string,
  deps: StepDeps,
) => {
  // A file planning did not count has the records its shards read.
  const readBy = (first: number, count: number) =>
    rows
      .filter((row) => row.index >= first && row.index < first + count)
      .reduce((sum, row) => sum + row.processed, 0);
  const model = plan.modelVersion;
  const metadata = {
    jobId: plan.jobId,
    model: model
      ? { name: model.name, version: model.version, checksum: model.checksum, owner: model.ownerId }
      : { name: plan.model },
    options: plan.options,
    counts,
    completedAt,
    files: plan.files.map((file) => ({
      input: file.inputUri,
      output: file.outputUri,
      failures: file.failureUri,
      records: file.records ?? readBy(file.firstShard, file.shardCount),
    })),
  };
  await deps.objects.putText(
    metadataLocationOf(deps.outputsBucket, plan.jobId),
    `${JSON.stringify(metadata, null, 2)}\n`,
    'application/json',
  );
};

/**
 * State "Record results and complete job": sums the shards' counts, joins their outputs into
 * each file's `.out` and `.out.failed` in input order, and moves the job RUNNING → COMPLETED. A
 * job with no successful record, or more failures than its maxFailedRecordsPercent, fails instead.
 */
export const completeJob = async (jobId: string, deps: StepDeps): Promise<JobEvent> => {
  const plan = await deps.objects.readJson<JobPlan>(planLocationOf(deps.outputsBucket, jobId));
  if (!plan) throw new Error(`Job ${jobId} has no plan`);
  const rows = await deps.progress.listFor(jobId);
  const counts = countsOf(plan, rows);
  await assembleOutputs(plan, deps.objects, deps.outputsBucket, rows);
  if (counts.total === 0) {
    throw new AllRecordsFailed('EMPTY_INPUT', `The input holds no records.`);
  }
  if (counts.succeeded === 0) {
    throw new AllRecordsFailed(
      'ALL_RECORDS_FAILED',
      `All ${counts.failed} records failed; see the failure files under ${plan.files[0]?.failureUri ?? 'the outputs'}.`,
    );
  }
  if ((counts.failed * 100) / counts.total > plan.options.maxFailedRecordsPercent) {
    throw new TooManyFailedRecords(
      'TOO_MANY_FAILED_RECORDS',
      `${counts.failed} of ${counts.total} records failed, more than maxFailedRecordsPercent (${plan.options.maxFailedRecordsPercent}%).`,
    );
  }
  const completedAt = nowOf(deps);
  await writeMetadata(plan, counts, rows, completedAt, deps);
  try {
    return jobEventOf(await deps.store.transition(jobId, 'completed', { counts, completedAt }));
  } catch (error) {
    const current = error instanceof TransitionRejected ? await deps.store.get(jobId) : undefined;
    if (current?.status !== 'completed') throw error;
    return jobEventOf(current);
  }
};
