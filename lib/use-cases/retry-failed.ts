import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import type { ObjectStore } from '../ports/object-store';
import { ObjectNotFound } from '../ports/object-store';
import { locationOf, toS3Uri } from '../domain/s3-location';
import { Conflict } from '../errors';
import { getOwnedJob } from './get-job';
import { pinnedModelOf } from './model-catalog';
import { encodeCsvRow } from '../transform/data-processing';
import { createJob, idempotentJobId } from './create-job';
import type { CreateJobDeps, CreatedJob } from './create-job';
import type { Job } from '../domain/job';
import { retryInputPrefix, planLocationOf } from '../domain/locations';
import type { JobPlan, ObjectListingLine, PlannedFile } from '../domain/job-plan';
import type { FailureLine } from '../domain/worker-output';

/**
 * Copies one file's failed records, as written, into a new input object. A CSV copy always
 * starts with a header (the file's own, or the model's fields in order, which reads the cells
 * as by position), so that the retry job can say `csvHeader: present` for every file. Nothing
 * is written for a file none of whose records failed.
 */
const writeRetryInput = async (
  file: PlannedFile,
  fieldNames: string[],
  target: { bucket: string; key: string },
  objects: ObjectStore,
): Promise<number> => {
  let failures;
  try {
    failures = await objects.openRead(locationOf(file.failureUri));
  } catch (error) {
    if (error instanceof ObjectNotFound) return 0;
    throw error;
  }
  let body: PassThrough | undefined;
  let upload: Promise<void> | undefined;
  let count = 0;
  try {
    for await (const line of createInterface({ input: failures, crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      const { record } = JSON.parse(line) as Partial<FailureLine>;
      if (typeof record !== 'string') continue;
      if (!body) {
        body = new PassThrough();
        upload = objects.upload(target, body, file.format === 'csv' ? 'text/csv' : 'application/x-ndjson');
        if (file.format === 'csv') body.write(`${encodeCsvRow(file.header ?? fieldNames)}\n`);
      }
      if (!body.write(`${record}\n`)) await new Promise((resolve) => body?.once('drain', resolve));
      count++;
    }
  } finally {
    body?.end();
  }
  await upload;
  return count;
};

/** The failed objects' keys of a job whose objects are records: their listing lines, as the failures keep them. */
const failedObjectKeys = async (file: PlannedFile, objects: ObjectStore): Promise<string[]> => {
  let failures;
  try {
    failures = await objects.openRead(locationOf(file.failureUri));
  } catch (error) {
    if (error instanceof ObjectNotFound) return [];
    throw error;
  }
  const keys: string[] = [];
  for await (const line of createInterface({ input: failures, crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    const { record } = JSON.parse(line) as Partial<FailureLine>;
    if (typeof record === 'string') keys.push((JSON.parse(record) as ObjectListingLine).key);
  }
  return keys;
};

/**
 * `POST /jobs/{id}/retry-failed`: a new job over the failed records of a finished job, linked
 * to it, with its model and options. The failed records are copied as they were written (CSV
 * with its header) to `retries/<newJobId>/` in the inputs bucket. Asking twice gives the same
 * job: the retry's idempotency key is the parent's id.
 */
export const retryFailedRecords = async (
  ownerId: string,
  parentJobId: string,
  deps: CreateJobDeps,
): Promise<CreatedJob> => {
  const parent = await getOwnedJob(ownerId, parentJobId, deps.store);
  if (parent.status !== 'completed' && parent.status !== 'failed') {
    throw new Conflict(
      'JOB_NOT_FINISHED',
      `Job ${parentJobId} is ${parent.status}; retry its failed records once it has ended.`,
    );
  }
  if (parent.counts.failed === 0) {
    throw new Conflict('NOTHING_TO_RETRY', `Job ${parentJobId} has no failed records.`);
  }
  const plan = await deps.objects.readJson<JobPlan>(planLocationOf(deps.outputsBucket, parentJobId));
  if (!plan)
    throw new Conflict(
      'NOTHING_TO_RETRY',
      `Job ${parentJobId} never planned its input, so no record failed on its own.`,
    );

  // The retry runs the very version the job ran, whatever its aliases point at now.
  const model = await deps.models.pinned(pinnedModelOf(parent));
  if (model?.status !== 'ready') {
    throw new Conflict(
      'MODEL_NOT_FOUND',
      `Model ${parent.model}:${parent.modelVersion} is no longer served.`,
    );
  }
  const idempotencyKey = `retry-failed:${parentJobId}`;
  const childId = idempotentJobId(ownerId, idempotencyKey);
  const existing = await deps.store.get(childId);
  if (existing) return { job: existing, replayed: true };

  const prefix = `${retryInputPrefix}${childId}/`;
  const objectFile = plan.files.find((file) => file.objects);
  if (objectFile?.objects) {
    // Objects as records: the retry reads the failed objects again, listed in a manifest.
    const keys = await failedObjectKeys(objectFile, deps.objects);
    if (keys.length === 0)
      throw new Conflict('NOTHING_TO_RETRY', `Job ${parentJobId}'s failure files hold no records.`);
    const manifest = { bucket: deps.inputsBucket, key: `${prefix}manifest.json` };
    const bucketUri = toS3Uri({ bucket: objectFile.objects.bucket, key: '' });
    await deps.objects.putText(
      manifest,
      JSON.stringify([{ prefix: bucketUri }, ...keys]),
      'application/json',
    );
    return createJob(
      { ownerId, source: 'retry-failed', idempotencyKey, parentJobId },
      {
        model: `${parent.model}:${parent.modelVersion}`,
        input: { s3Uri: toS3Uri(manifest), s3DataType: 'ManifestFile' },
        options: parent.options,
        ...(parent.webhookUrl ? { webhookUrl: parent.webhookUrl } : {}),
      },
      { ...deps, allowReservedInputs: true },
    );
  }
  let copied = 0;
  for (const [i, file] of plan.files.entries()) {
    const name = `${String(i).padStart(5, '0')}-${file.inputUri.split('/').pop() ?? 'input'}`;
    copied += await writeRetryInput(
      file,
      (model.manifest?.fields ?? []).map((field) => field.name),
      { bucket: deps.inputsBucket, key: `${prefix}${name}` },
      deps.objects,
    );
  }
  if (copied === 0)
    throw new Conflict('NOTHING_TO_RETRY', `Job ${parentJobId}'s failure files hold no records.`);

  const options: Job['options'] = {
    ...parent.options,
    ...(plan.files.some((f) => f.format === 'csv') ? { csvHeader: 'present' as const } : {}),
  };
  return createJob(
    { ownerId, source: 'retry-failed', idempotencyKey, parentJobId },
    {
      model: `${parent.model}:${parent.modelVersion}`,
      input: { s3Uri: toS3Uri({ bucket: deps.inputsBucket, key: prefix }), s3DataType: 'S3Prefix' },
      options,
      ...(parent.webhookUrl ? { webhookUrl: parent.webhookUrl } : {}),
    },
    { ...deps, allowReservedInputs: true },
  );
};
