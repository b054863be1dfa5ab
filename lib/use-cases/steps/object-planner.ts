import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ObjectInfo, ObjectStore } from '../../ports/object-store';
import type { Job } from '../../domain/job';
import type { JobPlan, ObjectListingLine, PlannedShard } from '../../domain/job-plan';
import { objectListingLocationOf, outputLocationsOf } from '../../domain/locations';
import { locationOf, toS3Uri } from '../../domain/s3-location';
import { InvalidInput, LongtailError } from '../../errors';
import { isImageContentType, isImageObject, isLineFileKey } from '../../records/image-objects';
import { cutObjects } from '../../records/object-cuts';

const mib = 1024 * 1024;

/** The objects of an input, in order, as planning finds them: listed, from a manifest, or the one object. */
export type ObjectSource = AsyncIterable<Pick<ObjectInfo, 'key'> & Partial<ObjectInfo>>;

/** What the planner needs of a model to read objects: the field its images go in. */
export interface ObjectModel {
  name: string;
  /** The record field the model's image input reads; absent for models that read no image. */
  imageField?: string;
}

/**
 * Whether a job reads each object of its input as one record: its `contentType` option says an
 * image type; or (no option) its one object is an image; or its folder or manifest holds no file
 * of records (JSON Lines, CSV) and either the model reads images or the first keys name some.
 */
export const readsObjects = (
  job: Job,
  model: ObjectModel,
  first: { keys: readonly string[]; contentType?: string },
): boolean => {
  if (job.input.type !== 's3') return false;
  if (job.options.contentType) return isImageContentType(job.options.contentType);
  if (job.input.s3DataType === 'S3Object') return isImageObject(first.contentType, first.keys[0] ?? '');
  if (first.keys.some(isLineFileKey)) return false;
  return model.imageField !== undefined || first.keys.some((key) => isImageObject(undefined, key));
};

const checkOptions = (job: Job, model: ObjectModel) => {
  if (!model.imageField) {
    throw new LongtailError(
      'UNSUPPORTED_FORMAT',
      `Model ${model.name} does not read images: its input is records (JSON Lines or CSV), not image objects.`,
    );
  }
  if (job.options.inputFilter)
    throw new InvalidInput('INVALID_OPTIONS', 'inputFilter selects from records; image objects have none.');
  if (job.options.accept === 'text/csv')
    throw new InvalidInput(
      'INVALID_OPTIONS',
      'Image objects give JSON Lines results; accept text/csv is not possible.',
    );
};

/**
 * Writes the listing of a job's objects to S3 (`work/<jobId>/objects.jsonl`, a line per object:
 * key, size, ETag) as it reads them, keeping only each line's offset and each object's size:
 * millions of keys plan in bounded memory, and the plan and the state machine's payload stay small.
 */
const writeListing = async (source: ObjectSource, objects: ObjectStore, listingUri: string) => {
  const body = new PassThrough();
  const uploaded = objects.upload(locationOf(listingUri), body, 'application/x-ndjson');
  const offsets: number[] = [];
  const sizes: number[] = [];
  let bytes = 0;
  let images = 0;
  try {
    for await (const object of source) {
      const line: ObjectListingLine = {
        key: object.key,
        ...(object.size !== undefined ? { size: object.size } : {}),
        ...(object.etag ? { etag: object.etag } : {}),
      };
      const text = `${JSON.stringify(line)}\n`;
      offsets.push(bytes);
      sizes.push(object.size ?? 0);
      if (isImageObject(object.contentType, object.key)) images++;
      bytes += Buffer.byteLength(text);
      if (!body.write(text)) await once(body, 'drain');
    }
  } catch (error) {
    body.destroy();
    await uploaded.catch(() => undefined);
    throw error;
  }
  body.end();
  await uploaded;
  offsets.push(bytes);
  return { offsets, sizes, bytes, images };
};

/**
 * Plans a job whose objects are records: lists them into the listing file, cuts the list into
 * shards by count and bytes (`cutObjects`) and plans one "file", the listing, whose shards are
 * exact line ranges of it. The worker reads its lines and fetches each object; the outputs join
 * into one `.out` per job, a line per object in listing order (or `<key>.out` each, `perObject`).
 */
export const buildObjectPlan = async (
  job: Job,
  model: ObjectModel,
  source: ObjectSource,
  deps: { objects: ObjectStore; outputsBucket: string; relativeTo: string },
): Promise<JobPlan> => {
  checkOptions(job, model);
  const listing = objectListingLocationOf(deps.outputsBucket, job.jobId);
  const { offsets, sizes, bytes, images } = await writeListing(source, deps.objects, toS3Uri(listing));
  const count = sizes.length;
  // Other objects beside images fail alone, saying why; an input of none is a mistake in the input.
  if (count === 0 || (images === 0 && !job.options.contentType))
    throw new LongtailError(
      'EMPTY_INPUT',
      `The input ${job.inputUri} holds no images (${count} object(s); images are .png, .jpg, .jpeg, .webp, .tif or .tiff, or say contentType).`,
    );
  const cuts = cutObjects(sizes, {
    maxObjectsPerShard: job.options.maxObjectsPerShard,
    targetShardBytes: job.options.shardSizeMB * mib,
    maxShards: job.options.maxShards,
  });
  const shards: PlannedShard[] = cuts.map((cut, index) => ({
    index,
    file: 0,
    start: offsets[cut.first]!,
    end: offsets[cut.end]!,
    firstLine: cut.first + 1,
    startsAtRecord: true,
    atObjectStart: cut.first === 0,
  }));
  const single = job.input.type === 's3' && job.input.s3DataType === 'S3Object';
  const { outputUri, failureUri } = single
    ? { outputUri: job.outputUri, failureUri: job.failureUri }
    : outputLocationsOf(deps.outputsBucket, job.jobId, 'objects');
  return {
    jobId: job.jobId,
    model: model.name,
    options: job.options,
    files: [
      {
        inputUri: toS3Uri(listing),
        format: 'jsonl',
        outputFormat: 'jsonl',
        outputUri,
        failureUri,
        bytes,
        records: count,
        firstShard: 0,
        shardCount: shards.length,
        objects: {
          bucket: locationOf(job.inputUri).bucket,
          imageField: model.imageField!,
          relativeTo: deps.relativeTo,
          outputs: job.options.objectOutputs,
        },
      },
    ],
    shards,
    totalRecords: count,
    totalBytes: sizes.reduce((sum, size) => sum + size, 0),
  };
};
