import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ObjectStore } from '../aws/object-store';
import { parseS3Uri, toS3Uri } from '../aws/s3-uri';
import { InvalidInput } from '../errors';
import type { ModelManifest } from '../models/manifest';
import { checkRecord } from '../models/records';
import { findModel, listModels } from '../models/registry';
import { emptyCounts } from './job';
import type { Job } from './job';
import type { JobQueue } from './job-queue';
import type { JobStore } from './job-store';
import { inlineInputLocation, inlineInputPrefix, outputLocationsOf } from './paths';

export const createJobRequestSchema = z.strictObject({
  model: z.string().min(1),
  input: z.union([
    z.strictObject({ records: z.array(z.unknown()).min(1, 'records must hold at least one record') }),
    z.strictObject({ s3Uri: z.string() }),
  ]),
  webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
});
export type CreateJobRequest = z.infer<typeof createJobRequestSchema>;

export interface CreateJobDeps {
  store: JobStore;
  queue: JobQueue;
  objects: ObjectStore;
  inputsBucket: string;
  outputsBucket: string;
  now?: () => Date;
  newJobId?: () => string;
}

/** Record problems reported back in one response: enough to fix a file, not a flood. */
const maxReportedIssues = 20;

const modelOrThrow = (name: string): ModelManifest => {
  const model = findModel(name);
  if (!model) {
    throw new InvalidInput('UNKNOWN_MODEL', `There is no model named "${name}". GET /models lists them.`, {
      available: listModels().map((m) => m.name),
    });
  }
  return model;
};

const checkInlineRecords = (model: ModelManifest, records: unknown[]) => {
  const issues = records.flatMap((record, index) => {
    const check = checkRecord(model, record);
    return check.ok ? [] : check.issues.map((issue) => ({ record: index, ...issue }));
  });
  if (issues.length > 0) {
    throw new InvalidInput(
      'INVALID_RECORDS',
      `${new Set(issues.map((i) => i.record)).size} of ${records.length} records do not fit model ${model.name}'s inputs.`,
      { issues: issues.slice(0, maxReportedIssues), fields: model.fields },
    );
  }
};

const inputKeyOrThrow = (s3Uri: string, inputsBucket: string): string => {
  const location = parseS3Uri(s3Uri);
  if (!location) {
    throw new InvalidInput('INVALID_S3_URI', `"${s3Uri}" is not an S3 URI of the form s3://bucket/key.`);
  }
  if (location.bucket !== inputsBucket) {
    throw new InvalidInput(
      'INPUT_OUTSIDE_BUCKET',
      `Inputs must be in s3://${inputsBucket}/; "${s3Uri}" is in bucket "${location.bucket}".`,
    );
  }
  if (location.key.startsWith(inlineInputPrefix)) {
    throw new InvalidInput(
      'INPUT_OUTSIDE_BUCKET',
      `Keys under ${inlineInputPrefix} hold other jobs' inline records.`,
    );
  }
  return location.key;
};

/**
 * Validates a job request, stores its inline input, writes the job record and enqueues its id.
 * Used by the HTTP API and (later) by S3 drops, so both paths make the same job.
 */
export const createJob = async (
  ownerId: string,
  request: CreateJobRequest,
  deps: CreateJobDeps,
): Promise<Job> => {
  const model = modelOrThrow(request.model);
  const jobId = (deps.newJobId ?? randomUUID)();
  const now = (deps.now ?? (() => new Date()))();

  let inputUri: string;
  let inputKey: string;
  let input: Job['input'];
  if ('records' in request.input) {
    checkInlineRecords(model, request.input.records);
    const location = inlineInputLocation(deps.inputsBucket, jobId);
    const jsonLines = request.input.records.map((record) => JSON.stringify(record)).join('\n') + '\n';
    await deps.objects.putText(location, jsonLines, 'application/x-ndjson');
    inputUri = toS3Uri(location);
    inputKey = location.key;
    input = { type: 'records', recordCount: request.input.records.length };
  } else {
    inputKey = inputKeyOrThrow(request.input.s3Uri, deps.inputsBucket);
    inputUri = request.input.s3Uri;
    input = { type: 's3', s3Uri: request.input.s3Uri };
  }

  const job: Job = {
    jobId,
    ownerId,
    status: 'pending',
    model: model.name,
    modelVersion: model.version,
    input,
    inputUri,
    ...outputLocationsOf(deps.outputsBucket, jobId, inputKey),
    counts: emptyCounts(),
    createdAt: now.toISOString(),
    ...(request.webhookUrl ? { webhookUrl: request.webhookUrl } : {}),
  };
  await deps.store.create(job);
  await deps.queue.enqueue({ jobId });
  return job;
};
