import { createHash, randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { z } from 'zod';
import type { ObjectStore } from '../ports/object-store';
import { parseS3Uri, toS3Uri } from '../domain/s3-location';
import { Conflict, InvalidInput } from '../errors';
import { recordCheckerOf } from '../models/record-check';
import { formatOf } from '../records/formats';
import type { RecordFormat } from '../records/formats';
import type { ModelVersion } from '../domain/model-version';
import type { ModelCatalog } from '../ports/model-registry';
import { RecordTransformError, compileDataProcessing, modelInputOf } from '../transform/data-processing';
import type { CompiledDataProcessing } from '../transform/data-processing';
import { checkInputAllowed } from '../auth/input-scopes';
import { parseOrThrow } from '../validation';
import { newWebhookSecret } from '../webhooks/signing';
import { checkWebhookUrl, webhookPolicyFromEnv } from '../webhooks/target-policy';
import { emptyCounts } from '../domain/job';
import type { Job, JobSource, S3DataType } from '../domain/job';
import { jobOptionsSchema } from '../domain/job-options';
import type { JobOptions } from '../domain/job-options';
import type { JobQueue } from '../ports/job-queue';
import type { JobStore } from '../ports/job-store';
import {
  inlineInputLocation,
  outputLocationsOf,
  outputPrefixOf,
  reservedInputPrefixes,
} from '../domain/locations';

export const createJobRequestSchema = z.strictObject({
  model: z.string().min(1),
  input: z.union([
    z.strictObject({ records: z.array(z.unknown()).min(1, 'records must hold at least one record') }),
    z.strictObject({ s3Uri: z.string(), s3DataType: z.enum(['S3Prefix', 'ManifestFile']).optional() }),
  ]),
  options: jobOptionsSchema.optional(),
  webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
});

/** `Idempotency-Key`: printable ASCII, as the IETF draft and Stripe use it; up to 255 characters. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/)
  .meta({
    description:
      'Makes the request safe to repeat: the same key and body answer the same job (with `idempotent-replayed: true`); the same key with another body is 409 IDEMPOTENCY_KEY_REUSED.',
    example: '5f0c2a1e-8d3b-4c6f-a1e2-9b8c7d6e5f4a',
  });

export type CreateJobRequest = z.input<typeof createJobRequestSchema>;
type ParsedCreateJobRequest = z.output<typeof createJobRequestSchema>;

export interface CreateJobDeps {
  store: JobStore;
  queue: JobQueue;
  objects: ObjectStore;
  models: ModelCatalog;
  inputsBucket: string;
  outputsBucket: string;
  now?: () => Date;
  newJobId?: () => string;
  /** Only Longtail's own retry-failed may point a job at its reserved prefixes. */
  allowReservedInputs?: boolean;
}

export interface CreateJobContext {
  ownerId: string;
  source: JobSource;
  /** The same key (per owner) and request make the same job, once; another request with it is a conflict. */
  idempotencyKey?: string;
  parentJobId?: string;
}

export interface CreatedJob {
  job: Job;
  /** True when the key was seen before with this request: nothing new was created. */
  replayed: boolean;
}

/** Record problems reported back in one response: enough to fix a file, not a flood. */
const maxReportedIssues = 20;

/** Checks inline records as the worker will read them: through the job's input filter. */
const checkInlineRecords = (model: ModelVersion, records: unknown[], compiled: CompiledDataProcessing) => {
  const check = recordCheckerOf(model);
  const issues = records.flatMap((record, index) => {
    let input: unknown;
    try {
      input = modelInputOf(compiled, record);
    } catch (error) {
      if (!(error instanceof RecordTransformError)) throw error;
      return [{ record: index, field: '(record)', message: error.message }];
    }
    const checked = check(input);
    return checked.ok ? [] : checked.issues.map((issue) => ({ record: index, ...issue }));
  });
  if (issues.length > 0) {
    throw new InvalidInput(
      'INVALID_RECORDS',
      `${new Set(issues.map((i) => i.record)).size} of ${records.length} records do not fit model ${model.name}'s inputs.`,
      {
        issues: issues.slice(0, maxReportedIssues),
        ...(model.manifest ? { fields: model.manifest.fields } : { signature: model.signature }),
      },
    );
  }
};

const inputKeyOrThrow = (
  s3Uri: string,
  inputsBucket: string,
  s3DataType: S3DataType,
  allowReserved = false,
): string => {
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
  // A prefix reaches into a reserved folder when it is inside it, or the folder is inside it.
  const reserved = reservedInputPrefixes.find(
    (prefix) =>
      location.key.startsWith(prefix) || (s3DataType === 'S3Prefix' && prefix.startsWith(location.key)),
  );
  if (reserved && !allowReserved) {
    throw new InvalidInput('INPUT_OUTSIDE_BUCKET', `Keys under ${reserved} hold other jobs' records.`);
  }
  return location.key;
};

/** A key in JSON's canonical order, so that the same request always hashes the same. */
const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
};

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A UUID-shaped id derived from the owner and idempotency key (version nibble 8: custom). */
export const idempotentJobId = (ownerId: string, key: string) => {
  const hex = sha256(`${ownerId}\n${key}`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

const formatIfKnown = (request: ParsedCreateJobRequest, options: JobOptions): RecordFormat | undefined => {
  if ('records' in request.input) return 'jsonl';
  if (s3DataTypeOf(request.input) !== 'S3Object') return undefined;
  try {
    return formatOf(options.contentType, request.input.s3Uri);
  } catch {
    return undefined;
  }
};

const s3DataTypeOf = (input: { s3Uri: string; s3DataType?: 'S3Prefix' | 'ManifestFile' }): S3DataType =>
  input.s3DataType ?? (input.s3Uri.endsWith('/') ? 'S3Prefix' : 'S3Object');

/** A replay of the request that made `existing`, or a conflict. Re-enqueues a job still pending. */
const replayOf = async (existing: Job, requestHash: string, deps: CreateJobDeps): Promise<CreatedJob> => {
  if (existing.requestHash !== requestHash) {
    throw new Conflict(
      'IDEMPOTENCY_KEY_REUSED',
      `This idempotency key already made job ${existing.jobId} from a different request.`,
      { jobId: existing.jobId },
    );
  }
  // The first attempt may have stopped between writing the job and enqueueing it; dispatch is idempotent.
  if (existing.status === 'pending') await deps.queue.enqueue({ jobId: existing.jobId });
  return { job: existing, replayed: true };
};

/**
 * Validates a job request, stores its inline input, writes the job record and enqueues its id.
 * Used by the HTTP API, S3 drops and retry-failed, so every path makes the same job. With an
 * idempotency key the job id is derived from it and the conditional write of the job record is
 * the single source of truth: concurrent duplicates make exactly one job.
 */
export const createJob = async (
  context: CreateJobContext,
  rawRequest: unknown,
  deps: CreateJobDeps,
): Promise<CreatedJob> => {
  const request: ParsedCreateJobRequest = parseOrThrow(createJobRequestSchema, rawRequest, 'job request');
  const model = await deps.models.resolve(context.ownerId, request.model);
  if (request.webhookUrl) checkWebhookUrl(request.webhookUrl, webhookPolicyFromEnv());
  const options = request.options ?? jobOptionsSchema.parse({});
  // The format is known for inline records, and usually from the key; filters are checked against it.
  const knownFormat = formatIfKnown(request, options);
  const compiled = compileDataProcessing(options, knownFormat);
  const requestHash = sha256(canonicalJson(request));
  const jobId = context.idempotencyKey
    ? idempotentJobId(context.ownerId, context.idempotencyKey)
    : (deps.newJobId ?? randomUUID)();

  if (context.idempotencyKey) {
    const existing = await deps.store.get(jobId);
    if (existing) return replayOf(existing, requestHash, deps);
  }

  let inputUri: string;
  let input: Job['input'];
  let locations: { outputUri: string; failureUri: string };
  if ('records' in request.input) {
    checkInlineRecords(model, request.input.records, compiled);
    // Keyed by the request too, so that a conflicting request under the same key cannot overwrite it.
    const location = inlineInputLocation(deps.inputsBucket, jobId, requestHash.slice(0, 16));
    const jsonLines = request.input.records.map((record) => JSON.stringify(record)).join('\n') + '\n';
    await deps.objects.putText(location, jsonLines, 'application/x-ndjson');
    inputUri = toS3Uri(location);
    input = { type: 'records', recordCount: request.input.records.length };
    locations = outputLocationsOf(deps.outputsBucket, jobId, basename(location.key));
  } else {
    const s3DataType = s3DataTypeOf(request.input);
    const key = inputKeyOrThrow(request.input.s3Uri, deps.inputsBucket, s3DataType, deps.allowReservedInputs);
    // Drops are in drop/ by construction and retries in their own copies: only callers' URIs are scoped.
    if (context.source === 'api') checkInputAllowed(context.ownerId, key);
    inputUri = request.input.s3Uri;
    input = { type: 's3', s3Uri: request.input.s3Uri, s3DataType };
    locations =
      s3DataType === 'S3Object'
        ? outputLocationsOf(deps.outputsBucket, jobId, basename(key))
        : {
            outputUri: outputPrefixOf(deps.outputsBucket, jobId),
            failureUri: outputPrefixOf(deps.outputsBucket, jobId),
          };
  }

  const job: Job = {
    jobId,
    ownerId: context.ownerId,
    status: 'pending',
    model: model.name,
    modelVersion: model.version,
    modelOwner: model.ownerId,
    modelChecksum: model.checksum,
    input,
    inputUri,
    ...locations,
    counts: emptyCounts(),
    createdAt: (deps.now ?? (() => new Date()))().toISOString(),
    options,
    source: context.source,
    requestHash,
    ...(context.parentJobId ? { parentJobId: context.parentJobId } : {}),
    ...(request.webhookUrl ? { webhookUrl: request.webhookUrl, webhookSecret: newWebhookSecret() } : {}),
  };
  try {
    await deps.store.create(job);
  } catch (error) {
    // Another request with the same key won the race: answer as its replay.
    if (error instanceof Conflict && context.idempotencyKey) {
      const winner = await deps.store.get(jobId);
      if (winner) return replayOf(winner, requestHash, deps);
    }
    throw error;
  }
  await deps.queue.enqueue({ jobId });
  return { job, replayed: false };
};
