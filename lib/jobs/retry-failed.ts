import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import type { ObjectStore } from '../aws/object-store';
import { ObjectNotFound, locationOf } from '../aws/object-store';
import { toS3Uri } from '../aws/s3-uri';
import { Conflict, NotFound } from '../errors';
import { encodeCsvRow } from '../transform/data-processing';
import { createJob, idempotentJobId } from './create-job';
import type { CreateJobDeps, CreatedJob } from './create-job';
import type { Job } from './job';
import { retryInputPrefix } from './paths';
import { planLocationOf } from './plan';
import type { JobPlan, PlannedFile } from './plan';

interface FailureLine {
  record?: unknown;
}

/** Copies one file's failed records, as written, into a new input object (header first for CSV). */
const writeRetryInput = async (
  file: PlannedFile,
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
  const body = new PassThrough();
  const upload = objects.upload(target, body, file.format === 'csv' ? 'text/csv' : 'application/x-ndjson');
  let count = 0;
  try {
    for await (const line of createInterface({ input: failures, crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      const { record } = JSON.parse(line) as FailureLine;
      if (typeof record !== 'string') continue;
      if (count === 0 && file.header) body.write(`${encodeCsvRow(file.header)}\n`);
      if (!body.write(`${record}\n`)) await new Promise((resolve) => body.once('drain', resolve));
      count++;
    }
  } finally {
    body.end();
  }
  await upload;
  return count;
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
  const parent = await deps.store.get(parentJobId);
  if (!parent || parent.ownerId !== ownerId) throw new NotFound('JOB_NOT_FOUND', `There is no job ${parentJobId}.`);
  if (parent.status !== 'completed' && parent.status !== 'failed') {
    throw new Conflict('JOB_NOT_FINISHED', `Job ${parentJobId} is ${parent.status}; retry its failed records once it has ended.`);
  }
  if (parent.counts.failed === 0) {
    throw new Conflict('NOTHING_TO_RETRY', `Job ${parentJobId} has no failed records.`);
  }
  const plan = await deps.objects.readJson<JobPlan>(planLocationOf(deps.outputsBucket, parentJobId));
  if (!plan) throw new Conflict('NOTHING_TO_RETRY', `Job ${parentJobId} never planned its input, so no record failed on its own.`);

  const idempotencyKey = `retry-failed:${parentJobId}`;
  const childId = idempotentJobId(ownerId, idempotencyKey);
  const existing = await deps.store.get(childId);
  if (existing) return { job: existing, replayed: true };

  const prefix = `${retryInputPrefix}${childId}/`;
  let copied = 0;
  for (const [i, file] of plan.files.entries()) {
    const name = `${String(i).padStart(5, '0')}-${file.inputUri.split('/').pop() ?? 'input'}`;
    copied += await writeRetryInput(file, { bucket: deps.inputsBucket, key: `${prefix}${name}` }, deps.objects);
  }
  if (copied === 0) throw new Conflict('NOTHING_TO_RETRY', `Job ${parentJobId}'s failure files hold no records.`);

  const options: Job['options'] = { ...parent.options, ...(plan.files.some((f) => f.header) ? { csvHeader: 'present' as const } : {}) };
  return createJob(
    { ownerId, source: 'retry-failed', idempotencyKey, parentJobId },
    {
      model: parent.model,
      input: { s3Uri: toS3Uri({ bucket: deps.inputsBucket, key: prefix }), s3DataType: 'S3Prefix' },
      options,
      ...(parent.webhookUrl ? { webhookUrl: parent.webhookUrl } : {}),
    },
    { ...deps, allowReservedInputs: true },
  );
};
