import { checkInputAllowed } from '../../auth/input-scopes';
import type { ObjectInfo, ObjectStore } from '../../ports/object-store';
import { locationOf, parseS3Uri, toS3Uri } from '../../domain/s3-location';
import { InvalidInput, LongtailError } from '../../errors';
import type { RecordField } from '../../models/manifest';

/** What planning needs of a model: its name, and its fields when it reads named fields (CSV headers). */
export interface PlanningModel {
  name: string;
  fields?: readonly Pick<RecordField, 'name'>[];
}
import { decodeRecords } from '../../records/decode';
import { formatOf } from '../../records/formats';
import { splitIntoShards } from '../../records/shard-plan';
import type { Job } from '../../domain/job';
import { outputLocationsOf, reservedInputPrefixes } from '../../domain/locations';
import { maxArraySize } from '../../domain/job-plan';
import type { JobPlan, PlannedFile, PlannedShard } from '../../domain/job-plan';

const mib = 1024 * 1024;
const inputNotFound = (message: string) => new LongtailError('INPUT_NOT_FOUND', message);

/** SageMaker's ManifestFile: `[{"prefix": "s3://bucket/prefix/"}, "relative/key", …]`. */
const readManifest = async (
  manifestUri: string,
  objects: ObjectStore,
): Promise<{ prefix: string; keys: string[] }> => {
  let manifest: unknown;
  try {
    manifest = await objects.readJson<unknown>(locationOf(manifestUri));
  } catch (error) {
    if (error instanceof SyntaxError)
      throw new LongtailError('INVALID_MANIFEST', `${manifestUri} is not valid JSON.`);
    throw error;
  }
  if (manifest === undefined) throw inputNotFound(`The manifest ${manifestUri} does not exist.`);
  const [first, ...relative] = Array.isArray(manifest) ? manifest : [];
  const prefix = (first as { prefix?: unknown } | undefined)?.prefix;
  if (typeof prefix !== 'string' || !relative.every((key) => typeof key === 'string')) {
    throw new LongtailError(
      'INVALID_MANIFEST',
      `${manifestUri} must be a JSON list: [{"prefix": "s3://bucket/prefix/"}, "relative/key", …].`,
    );
  }
  return { prefix, keys: relative as string[] };
};

/** An input object and the name its outputs take under `outputs/<jobId>/`. */
interface ResolvedInput extends ObjectInfo {
  outputName: string;
}

const isReserved = (key: string) => reservedInputPrefixes.some((prefix) => key.startsWith(prefix));

/**
 * The objects a job reads, with their sizes; each must be in the inputs bucket and outside the
 * prefixes Longtail keeps other jobs' records in (but for a retry job's own copies). Outputs
 * are named by the object's path relative to the prefix (or the manifest's prefix), so two
 * files of the same name in different folders do not collide.
 */
const resolveInputs = async (
  job: Job,
  inputsBucket: string,
  objects: ObjectStore,
): Promise<ResolvedInput[]> => {
  const dataType = job.input.type === 'records' ? 'S3Object' : job.input.s3DataType;
  const { bucket, key } = locationOf(job.inputUri);
  // A job reads its own inline records, and a retry job its own copies.
  const mayReadReserved = job.input.type === 'records' || job.source === 'retry-failed';
  if (dataType === 'S3Prefix') {
    const folder = key.slice(0, key.lastIndexOf('/') + 1);
    const found: ResolvedInput[] = [];
    for await (const object of objects.list(bucket, key)) {
      if (object.key.endsWith('/') || object.size === 0) continue;
      if (isReserved(object.key) && !mayReadReserved) continue;
      found.push({ ...object, outputName: object.key.slice(folder.length) });
    }
    if (found.length === 0) throw inputNotFound(`No objects under ${job.inputUri}.`);
    return found;
  }
  const listed =
    dataType === 'ManifestFile'
      ? await readManifest(job.inputUri, objects).then(({ prefix, keys }) =>
          keys.map((relative) => ({ uri: `${prefix}${relative}`, outputName: relative })),
        )
      : [{ uri: job.inputUri, outputName: key.split('/').pop() ?? key }];
  const resolved: ResolvedInput[] = [];
  for (const { uri, outputName } of listed) {
    const location = parseS3Uri(uri);
    if (!location || location.bucket !== inputsBucket || (isReserved(location.key) && !mayReadReserved)) {
      throw new LongtailError(
        'INPUT_OUTSIDE_BUCKET',
        `${uri} is not an input this job may read (s3://${inputsBucket}/, outside ${reservedInputPrefixes.join(' and ')}).`,
      );
    }
    // A manifest may list only what its owner could have submitted itself.
    if (dataType === 'ManifestFile' && job.source === 'api') checkInputAllowed(job.ownerId, location.key);
    const info = await objects.head(location);
    if (!info) throw inputNotFound(`The input ${uri} does not exist.`);
    resolved.push({ ...info, outputName });
  }
  return resolved;
};

/** `auto`: a header when the first row names every field the model reads. */
const csvHeaderOf = async (
  file: ObjectInfo,
  bucket: string,
  job: Job,
  model: PlanningModel,
  objects: ObjectStore,
): Promise<string[] | undefined> => {
  const { fields } = model;
  if (!fields) {
    throw new LongtailError(
      'UNSUPPORTED_FORMAT',
      `Model ${model.name} reads tensors, not named fields: send its records as JSON Lines (Open Inference Protocol requests, or objects keyed by input name).`,
    );
  }
  if (job.options.csvHeader === 'absent') return undefined;
  const stream = await objects.openRead({ bucket, key: file.key });
  try {
    for await (const first of decodeRecords(stream, 'csv', { firstLine: 1 })) {
      const cells =
        first.ok && Array.isArray(first.value) ? (first.value as string[]).map((c) => c.trim()) : undefined;
      if (job.options.csvHeader === 'present') return cells ?? [];
      return cells && fields.every((field) => cells.includes(field.name)) ? cells : undefined;
    }
    return undefined;
  } finally {
    stream.destroy();
  }
};

/**
 * Resolves a job's inputs and plans its shards, reading each object once. Shards are sized by
 * `shardSizeMB`, and their number across files kept within `maxShards` (each non-empty file
 * needs one). Throws typed errors (INPUT_NOT_FOUND, UNSUPPORTED_FORMAT, EMPTY_INPUT, …) for
 * inputs the job cannot run on.
 */
export const buildJobPlan = async (
  job: Job,
  model: PlanningModel,
  deps: { objects: ObjectStore; inputsBucket: string; outputsBucket: string },
): Promise<JobPlan> => {
  const inputs = await resolveInputs(job, deps.inputsBucket, deps.objects);
  if (inputs.length > maxArraySize) {
    throw new LongtailError(
      'TOO_MANY_FILES',
      `The input has ${inputs.length} files; a job takes at most ${maxArraySize}.`,
    );
  }
  const bucket = locationOf(job.inputUri).bucket;
  const totalBytes = inputs.reduce((sum, file) => sum + file.size, 0);
  const maxShards = Math.max(inputs.length, Math.min(job.options.maxShards, maxArraySize));
  const files: PlannedFile[] = [];
  const shards: PlannedShard[] = [];

  for (const input of inputs) {
    const format = formatOf(job.options.contentType ?? input.contentType, input.key);
    const outputFormat = job.options.accept ? formatOf(job.options.accept, input.key) : format;
    const multiFile = job.input.type === 's3' && job.input.s3DataType !== 'S3Object';
    const { outputUri, failureUri } = multiFile
      ? outputLocationsOf(deps.outputsBucket, job.jobId, input.outputName)
      : { outputUri: job.outputUri, failureUri: job.failureUri };
    const fileIndex = files.length;
    const firstShard = shards.length;

    let ranges: { start: number; end: number; firstLine: number; records: number }[];
    let header: string[] | undefined;
    if (job.options.splitType === 'None') {
      if (format !== 'jsonl') {
        throw new InvalidInput(
          'INVALID_OPTIONS',
          'splitType None reads one JSON record per object; the input is CSV.',
        );
      }
      if (input.size > job.options.maxPayloadMB * mib) {
        throw new LongtailError(
          'RECORD_TOO_LARGE',
          `${toS3Uri({ bucket, key: input.key })} is larger than maxPayloadMB (${job.options.maxPayloadMB} MB).`,
        );
      }
      ranges = [{ start: 0, end: input.size, firstLine: 1, records: 1 }];
    } else {
      header = format === 'csv' ? await csvHeaderOf(input, bucket, job, model, deps.objects) : undefined;
      // Every file needs a shard; the rest are shared by size, so the total stays within maxShards.
      const share = 1 + Math.floor(((maxShards - inputs.length) * input.size) / Math.max(1, totalBytes));
      const stream = await deps.objects.openRead({ bucket, key: input.key });
      ranges = (
        await splitIntoShards(stream, format, {
          targetShardBytes: job.options.shardSizeMB * mib,
          maxShards: share,
          csvHeader: header !== undefined,
          totalBytes: input.size,
        })
      ).shards;
    }
    for (const range of ranges) {
      shards.push({ ...range, index: shards.length, file: fileIndex, atObjectStart: range.start === 0 });
    }
    files.push({
      inputUri: toS3Uri({ bucket, key: input.key }),
      format,
      outputFormat,
      outputUri,
      failureUri,
      ...(header ? { header } : {}),
      bytes: input.size,
      records: ranges.reduce((sum, range) => sum + range.records, 0),
      firstShard,
      shardCount: ranges.length,
    });
  }

  const totalRecords = files.reduce((sum, file) => sum + file.records, 0);
  if (totalRecords === 0)
    throw new LongtailError('EMPTY_INPUT', `The input ${job.inputUri} holds no records.`);
  return { jobId: job.jobId, model: model.name, options: job.options, files, shards, totalRecords };
};
