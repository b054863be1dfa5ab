import { basename } from 'node:path';
import { z } from 'zod';
import type { ObjectStore } from '../ports/object-store';
import { toS3Uri } from '../domain/s3-location';
import { Conflict, InvalidInput, LongtailError } from '../errors';
import { logger } from '../logger';
import { createJob, idempotentJobId } from './create-job';
import type { CreateJobDeps, CreatedJob } from './create-job';
import type { Job } from '../domain/job';
import { emptyCounts } from '../domain/job';
import type { JobEventPublisher } from '../ports/job-event-publisher';
import { jobOptionsSchema } from '../domain/job-options';
import { outputLocationsOf } from '../domain/locations';
import { jobEventOf } from '../domain/job-event';
import type { DropWrite } from '../domain/drop-batch';

/** Options for one dropped file: `<file>.options.json` beside it, uploaded before it. */
export const sidecarSuffix = '.options.json';

const sidecarSchema = z.strictObject({
  options: jobOptionsSchema.partial().optional(),
  webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
});

/** One dropped object's write (bucket, decoded key, sequencer, version). */
export type DroppedObject = DropWrite;

export interface DropDeps extends CreateJobDeps {
  events: JobEventPublisher;
  ownerId: string;
}

/** S3 writes `red flower.csv` as `red+flower.csv` in notifications. */
export const decodeS3EventKey = (key: string) => {
  const spaced = key.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // S3 encodes every key it notifies; one it did not (a test event, a hand-made one) is taken as written.
    return spaced;
  }
};

/** `drop/<model>/<path>` → the model; anything else (or a sidecar, or a folder marker) → undefined. */
export const dropTargetOf = (key: string): { model: string } | undefined => {
  const match = /^drop\/([^/]+)\/(.+)$/.exec(key);
  if (!match?.[1] || !match[2] || key.endsWith('/') || key.endsWith(sidecarSuffix)) return undefined;
  return { model: match[1] };
};

const readSidecar = async (object: DroppedObject, objects: ObjectStore) => {
  const location = { bucket: object.bucket, key: `${object.key}${sidecarSuffix}` };
  let raw: unknown;
  try {
    raw = await objects.readJson<unknown>(location);
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new InvalidInput('INVALID_SIDECAR', `${toS3Uri(location)} is not valid JSON.`);
    }
    throw error;
  }
  if (raw === undefined) return { options: {} } as { options: Record<string, unknown>; webhookUrl?: string };
  const parsed = sidecarSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidInput(
      'INVALID_SIDECAR',
      `${toS3Uri(location)} is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  // Only the options the sidecar names: zod fills in defaults, which must not hide the model's.
  const named = new Set(Object.keys((raw as { options?: object }).options ?? {}));
  const options = Object.fromEntries(
    Object.entries(parsed.data.options ?? {}).filter(([key]) => named.has(key)),
  );
  return { ...parsed.data, options };
};

/** What a rejected drop's failed job says it was over. */
export interface RejectedInput {
  /** The folder under drop/ that names the model. */
  model: string;
  input: Extract<Job['input'], { type: 's3' }>;
  /** The outputs it would have had: the file's name, or a batch's prefix. */
  outputs: { outputUri: string; failureUri: string };
}

/**
 * A drop the job could not even be accepted for (unknown model, bad sidecar) still becomes a
 * job, failed with the reason, so that the owner sees what happened to the file or batch.
 */
export const recordRejectedDrop = async (
  rejected: RejectedInput,
  idempotencyKey: string,
  error: LongtailError,
  deps: DropDeps,
) => {
  const jobId = idempotentJobId(deps.ownerId, idempotencyKey);
  const now = (deps.now ?? (() => new Date()))().toISOString();
  const job: Job = {
    jobId,
    ownerId: deps.ownerId,
    status: 'failed',
    model: rejected.model,
    modelVersion: 'unknown',
    input: rejected.input,
    inputUri: rejected.input.s3Uri,
    ...rejected.outputs,
    counts: emptyCounts(),
    createdAt: now,
    completedAt: now,
    error: { code: error.code, message: error.message },
    options: jobOptionsSchema.parse({}),
    source: 's3-drop',
  };
  try {
    await deps.store.create(job);
  } catch (createError) {
    if (createError instanceof Conflict) return;
    throw createError;
  }
  await deps.events.publish(jobEventOf(job));
};

/**
 * Starts the job for one dropped file: the model from its folder, options from the model's
 * drop defaults and the file's sidecar. The idempotency key is the object's write (bucket, key,
 * version or sequencer), so a redelivered notification yields the job it made before.
 */
export const startDroppedJob = async (
  object: DroppedObject,
  deps: DropDeps,
): Promise<CreatedJob | undefined> => {
  const target = dropTargetOf(object.key);
  if (!target) return undefined;
  const idempotencyKey = `s3-drop:${object.bucket}/${object.key}@${object.versionId ?? object.sequencer}`;
  try {
    const sidecar = await readSidecar(object, deps.objects);
    const model = await deps.models.resolve(deps.ownerId, target.model);
    const modelDefaults = model.manifest?.dropOptions ?? {};
    return await createJob(
      { ownerId: deps.ownerId, source: 's3-drop', idempotencyKey },
      {
        // The version resolved above: its drop defaults are the ones applied.
        model: `${model.name}:${model.version}`,
        input: { s3Uri: toS3Uri(object) },
        options: { ...modelDefaults, ...sidecar.options },
        ...(sidecar.webhookUrl ? { webhookUrl: sidecar.webhookUrl } : {}),
      },
      deps,
    );
  } catch (error) {
    // A model still being checked will not be ready in Lambda's few retries: the drop fails, saying so.
    const notReady = error instanceof Conflict && error.code === 'MODEL_NOT_READY';
    if (!(error instanceof InvalidInput) && !notReady) throw error;
    logger.warn('Dropped file rejected', { key: object.key, code: error.code, message: error.message });
    const jobId = idempotentJobId(deps.ownerId, idempotencyKey);
    await recordRejectedDrop(
      {
        model: target.model,
        input: { type: 's3', s3Uri: toS3Uri(object), s3DataType: 'S3Object' },
        outputs: outputLocationsOf(deps.outputsBucket, jobId, basename(object.key)),
      },
      idempotencyKey,
      error,
      deps,
    );
    return undefined;
  }
};
