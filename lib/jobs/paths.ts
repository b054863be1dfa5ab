import { toS3Uri } from '../aws/s3-uri';
import type { S3Location } from '../aws/s3-uri';

/** Where a job's objects live. One place, so the API, the state machine tasks and the worker agree. */

/** Inline records are stored here; callers' own inputs may not point under it. */
export const inlineInputPrefix = 'inline/';

/** Copies of failed records for retry-failed jobs; reserved too. */
export const retryInputPrefix = 'retries/';

/** Prefixes of the inputs bucket that hold other jobs' records. */
export const reservedInputPrefixes = [inlineInputPrefix, retryInputPrefix];

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

/** The worker's report for its shard: counts on success, a typed error on failure. */
export const reportLocationOf = (outputsBucket: string, jobId: string): S3Location => ({
  bucket: outputsBucket,
  key: `work/${jobId}/report.json`,
});
