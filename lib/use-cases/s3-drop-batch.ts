import type { JobOptions } from '../domain/job-options';
import { toS3Uri } from '../domain/s3-location';
import { Conflict, InvalidInput } from '../errors';
import { logger } from '../logger';
import { createJob, idempotentJobId } from './create-job';
import type { CreatedJob } from './create-job';
import { batchIdempotencyKeyOf, batchManifestOf } from '../domain/drop-batch';
import type { ImageBatch } from '../domain/drop-batch';
import { dropManifestLocation, outputPrefixOf } from '../domain/locations';
import { recordRejectedDrop } from './s3-drop';
import type { DropDeps } from './s3-drop';

/**
 * Starts the one job for a batch of images dropped under the same `drop/<model>/`: writes the
 * batch's ManifestFile under drop-manifests/ (named by the job id) and submits a job over it
 * with the model's drop defaults. The job id derives from the batch's writes, so a redelivered
 * batch answers the job it made (the manifest is rewritten with the same bytes); a batch the
 * job could not be accepted for (an unknown model) is recorded as a failed job, as a file is.
 */
/**
 * The model's drop defaults that apply to images as records: how they batch, shard and may fail.
 * Those shaped for files of records (filters naming fields, joins, CSV and format options) are
 * left out: an image's output line is its key, ETag and prediction.
 */
const objectDropOptions = (options: Partial<JobOptions>): Partial<JobOptions> => {
  const {
    inputFilter: _inputFilter,
    outputFilter: _outputFilter,
    joinSource: _joinSource,
    csvHeader: _csvHeader,
    contentType: _contentType,
    accept: _accept,
    splitType: _splitType,
    ...forObjects
  } = options;
  return forObjects;
};

export const startDroppedBatch = async (
  batch: ImageBatch,
  deps: DropDeps,
): Promise<CreatedJob | undefined> => {
  const idempotencyKey = batchIdempotencyKeyOf(batch);
  const jobId = idempotentJobId(deps.ownerId, idempotencyKey);
  const manifestUri = toS3Uri(dropManifestLocation(deps.inputsBucket, jobId));
  const input = { s3Uri: manifestUri, s3DataType: 'ManifestFile' as const };
  // A redelivery answers the job as it is, even if the model's alias has moved since.
  const existing = await deps.store.get(jobId);
  if (existing) {
    // The first attempt may have stopped between writing the job and enqueueing it; dispatch is idempotent.
    if (existing.status === 'pending') await deps.queue.enqueue({ jobId });
    return { job: existing, replayed: true };
  }
  try {
    const model = await deps.models.resolve(deps.ownerId, batch.model);
    // Written before the job exists, so that no job is ever planned without its manifest.
    await deps.objects.putText(
      dropManifestLocation(deps.inputsBucket, jobId),
      JSON.stringify(batchManifestOf(batch)),
      'application/json',
    );
    return await createJob(
      { ownerId: deps.ownerId, source: 's3-drop', idempotencyKey },
      {
        model: `${model.name}:${model.version}`,
        input,
        options: objectDropOptions(model.manifest?.dropOptions ?? {}),
      },
      // The manifest lies under a reserved prefix; planning lets only this job read it.
      { ...deps, allowReservedInputs: true },
    );
  } catch (error) {
    const notReady = error instanceof Conflict && error.code === 'MODEL_NOT_READY';
    if (!(error instanceof InvalidInput) && !notReady) {
      // Stored, then not enqueued: the batch has its job (the sweeper enqueues a pending job
      // whose message was lost). Failing it would bring its messages back, perhaps beside new
      // drops, in a batch with another id: a second job over the same images.
      const stored = await deps.store.get(jobId).catch(() => undefined);
      if (!stored) throw error;
      logger.warn('Drop batch job stored but not enqueued; the sweeper will dispatch it', {
        jobId,
        error: error as Error,
      });
      return { job: stored, replayed: false };
    }
    logger.warn('Dropped images rejected', {
      model: batch.model,
      objects: batch.writes.length,
      code: error.code,
      message: error.message,
    });
    const prefix = outputPrefixOf(deps.outputsBucket, jobId);
    await recordRejectedDrop(
      {
        model: batch.model,
        input: { type: 's3', ...input },
        outputs: { outputUri: prefix, failureUri: prefix },
      },
      idempotencyKey,
      error,
      deps,
    );
    return undefined;
  }
};
