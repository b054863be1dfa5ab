import { toS3Uri } from './s3-location';
import type { S3Location } from './s3-location';

/**
 * Where a job's objects live and what its runs are called, so that the API, the state machine
 * tasks and the worker agree. The state machine names the Batch job itself too
 * (statemachines/inference-job.asl.json); a test keeps the two in step.
 */

/** Inline records are stored here; callers' own inputs may not point under it. */
export const inlineInputPrefix = 'inline/';

/** Copies of failed records for retry-failed jobs; reserved too. */
export const retryInputPrefix = 'retries/';

/** The manifests of jobs that gather dropped images (drop batches); reserved too. */
export const dropManifestPrefix = 'drop-manifests/';

/** Prefixes of the inputs bucket that hold other jobs' records. */
export const reservedInputPrefixes = [inlineInputPrefix, retryInputPrefix, dropManifestPrefix];

/** A drop batch job's manifest, named by its job id: the job, and only it, reads it. */
export const dropManifestLocation = (inputsBucket: string, jobId: string): S3Location => ({
  bucket: inputsBucket,
  key: `${dropManifestPrefix}${jobId}.manifest.json`,
});

export const inlineInputLocation = (inputsBucket: string, jobId: string, requestTag: string): S3Location => ({
  bucket: inputsBucket,
  key: `${inlineInputPrefix}${jobId}/${requestTag}/records.jsonl`,
});

/** Where every output of a job goes: `outputs/<jobId>/`. */
export const outputPrefixOf = (outputsBucket: string, jobId: string) =>
  `s3://${outputsBucket}/outputs/${jobId}/`;

/** `outputs/<jobId>/<name>.out` and `.out.failed`; `name` may hold folders (a prefix's relative path). */
export const outputLocationsOf = (outputsBucket: string, jobId: string, name: string) => {
  const output = { bucket: outputsBucket, key: `outputs/${jobId}/${name}.out` };
  return {
    outputUri: toS3Uri(output),
    failureUri: toS3Uri({ ...output, key: `${output.key}.failed` }),
  };
};

/**
 * What made a job's outputs (model version and checksum, options, counts), beside them: a result
 * file found a year later says which model made it. No output ends in `.json`, so it collides with none.
 */
export const metadataLocationOf = (outputsBucket: string, jobId: string): S3Location => ({
  bucket: outputsBucket,
  key: `outputs/${jobId}/_metadata.json`,
});

/** The job's working files, beside its outputs: the plan, the shards' parts, the planning report. */
const workKeyOf = (jobId: string, name: string) => `work/${jobId}/${name}`;

/** Why a job could not run at all, when planning found out (a `PlanningReport`). */
export const reportLocationOf = (outputsBucket: string, jobId: string): S3Location => ({
  bucket: outputsBucket,
  key: workKeyOf(jobId, 'report.json'),
});

export const planLocationOf = (outputsBucket: string, jobId: string): S3Location => ({
  bucket: outputsBucket,
  key: workKeyOf(jobId, 'plan.json'),
});

/** The objects a job reads one record each, listed at planning (see `ObjectListingLine`). */
export const objectListingLocationOf = (outputsBucket: string, jobId: string): S3Location => ({
  bucket: outputsBucket,
  key: workKeyOf(jobId, 'objects.jsonl'),
});

/** One shard's outputs and failures, joined into the files' `.out` and `.out.failed` at the end. */
export const shardOutputLocationOf = (outputsBucket: string, jobId: string, shard: number) => ({
  output: { bucket: outputsBucket, key: workKeyOf(jobId, `shards/${shard}.out`) },
  failures: { bucket: outputsBucket, key: workKeyOf(jobId, `shards/${shard}.failed`) },
});

/** Where a job's shard outputs are: one listing gives their sizes. */
export const shardOutputsPrefixOf = (outputsBucket: string, jobId: string) => ({
  bucket: outputsBucket,
  key: workKeyOf(jobId, 'shards/'),
});

/** The Batch job name the state machine gives a job's worker: `longtail-<jobId>`. */
export const batchJobNameOf = (jobId: string) => `longtail-${jobId}`;

/** Standard workflows name an execution `<state machine ARN with :execution:>:<name>`. */
export const executionArnOf = (stateMachineArn: string, name: string) =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
