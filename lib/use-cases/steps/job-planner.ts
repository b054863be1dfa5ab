import { checkInputAllowed } from '../../auth/input-scopes';
import type { ObjectInfo, ObjectStore } from '../../ports/object-store';
import { locationOf, parseS3Uri, toS3Uri } from '../../domain/s3-location';
import { InvalidInput, LongtailError } from '../../errors';
import type { RecordField } from '../../models/manifest';

/**
 * What planning needs of a model: its name, its fields when it reads named fields (CSV headers),
 * and the field its image input reads, when it has one (objects as records).
 */
export interface PlanningModel {
  name: string;
  fields?: readonly Pick<RecordField, 'name'>[];
  imageField?: string;
}
import { Readable } from 'node:stream';
import { decodeRecords } from '../../records/decode';
import { formatOf } from '../../records/formats';
import type { RecordFormat } from '../../records/formats';
import { countRecordSpans } from '../../records/boundaries';
import { readFirstRecord } from '../../records/first-record';
import { rangeReaderOf } from '../../records/record-boundary';
import { cutIntoShards } from '../../records/shard-cuts';
import type { Job } from '../../domain/job';
import { outputLocationsOf, reservedInputPrefixes } from '../../domain/locations';
import { maxArraySize } from '../../domain/job-plan';
import { buildObjectPlan, readsObjects } from './object-planner';
import type { ObjectSource } from './object-planner';
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

/** A job reads its own inline records, and a retry job its own copies. */
const mayReadReservedOf = (job: Job) => job.input.type === 'records' || job.source === 'retry-failed';

/**
 * Where a listed input (the job's object, or a manifest's entry) is, if the job may read it: in
 * the inputs bucket, outside other jobs' records, and for a manifest submitted through the API
 * within what its owner could have submitted itself.
 */
const readableLocationOf = (job: Job, uri: string, inputsBucket: string, fromManifest: boolean) => {
  const location = parseS3Uri(uri);
  if (
    !location ||
    location.bucket !== inputsBucket ||
    (isReserved(location.key) && !mayReadReservedOf(job))
  ) {
    throw new LongtailError(
      'INPUT_OUTSIDE_BUCKET',
      `${uri} is not an input this job may read (s3://${inputsBucket}/, outside ${reservedInputPrefixes.join(' and ')}).`,
    );
  }
  if (fromManifest && job.source === 'api') checkInputAllowed(job.ownerId, location.key);
  return location;
};

/** What deciding between objects and records read already, so that planning records reads it once. */
interface KnownInput {
  /** The single object's HEAD. */
  head?: ObjectInfo;
  /** The prefix's listing, from its start (the first page already taken, then the rest). */
  listing?: AsyncIterable<ObjectInfo>;
  manifest?: { prefix: string; keys: string[] };
}

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
  known: KnownInput,
): Promise<ResolvedInput[]> => {
  const dataType = job.input.type === 'records' ? 'S3Object' : job.input.s3DataType;
  const { bucket, key } = locationOf(job.inputUri);
  if (dataType === 'S3Prefix') {
    const folder = key.slice(0, key.lastIndexOf('/') + 1);
    const found: ResolvedInput[] = [];
    for await (const object of known.listing ?? objects.list(bucket, key)) {
      if (object.key.endsWith('/') || object.size === 0) continue;
      if (isReserved(object.key) && !mayReadReservedOf(job)) continue;
      found.push({ ...object, outputName: object.key.slice(folder.length) });
    }
    if (found.length === 0) throw inputNotFound(`No objects under ${job.inputUri}.`);
    return found;
  }
  const manifest =
    dataType === 'ManifestFile' ? (known.manifest ?? (await readManifest(job.inputUri, objects))) : undefined;
  const listed = manifest
    ? manifest.keys.map((relative) => ({ uri: `${manifest.prefix}${relative}`, outputName: relative }))
    : [{ uri: job.inputUri, outputName: key.split('/').pop() ?? key }];
  const resolved: ResolvedInput[] = [];
  for (const { uri, outputName } of listed) {
    const location = readableLocationOf(job, uri, inputsBucket, manifest !== undefined);
    const info = (!manifest && known.head) || (await objects.head(location));
    if (!info) throw inputNotFound(`The input ${uri} does not exist.`);
    resolved.push({ ...info, outputName });
  }
  return resolved;
};

/**
 * Longtail writes a job's own input under a reserved prefix, named by the job's id (inline
 * records, retry copies, a drop batch's manifest); no job reads another's.
 */
const checkOwnInput = (job: Job) => {
  const { key } = locationOf(job.inputUri);
  const reservedBy = reservedInputPrefixes.find((prefix) => key.startsWith(prefix));
  if (reservedBy && !key.startsWith(`${reservedBy}${job.jobId}`)) {
    throw new LongtailError('INPUT_OUTSIDE_BUCKET', `${job.inputUri} holds another job's input.`);
  }
};

/** A listing whose first page is taken to look at, and which still yields every entry from the start. */
const peekListing = async (listing: AsyncIterable<ObjectInfo>, count = 1000) => {
  const iterator = listing[Symbol.asyncIterator]();
  const first: ObjectInfo[] = [];
  while (first.length < count) {
    const next = await iterator.next();
    if (next.done) break;
    first.push(next.value);
  }
  const all = async function* () {
    yield* first;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  };
  return { first, all: all() };
};

/**
 * The input's objects, when the job reads each as one record (`readsObjects`): a source that
 * lists them in order (the prefix's listing, the manifest's keys unread, or the one object) and
 * the prefix their relative names start after. For inputs of records, what was read to decide.
 */
const objectInputOf = async (
  job: Job,
  model: PlanningModel,
  inputsBucket: string,
  objects: ObjectStore,
): Promise<{ objects?: { source: ObjectSource; relativeTo: string }; known: KnownInput }> => {
  if (job.input.type !== 's3') return { known: {} };
  const { bucket, key } = locationOf(job.inputUri);
  const folder = key.slice(0, key.lastIndexOf('/') + 1);
  if (job.input.s3DataType === 'S3Object') {
    const info = await objects.head({ bucket, key });
    if (!info) throw inputNotFound(`The input ${job.inputUri} does not exist.`);
    if (!readsObjects(job, model, { keys: [key], contentType: info.contentType }))
      return { known: { head: info } };
    const source = (async function* () {
      yield info;
    })();
    return { objects: { source, relativeTo: folder }, known: {} };
  }
  if (job.input.s3DataType === 'S3Prefix') {
    const { first, all } = await peekListing(objects.list(bucket, key));
    const listed = (object: ObjectInfo) =>
      !object.key.endsWith('/') && (!isReserved(object.key) || mayReadReservedOf(job));
    if (!readsObjects(job, model, { keys: first.filter(listed).map((object) => object.key) }))
      return { known: { listing: all } };
    const source = (async function* () {
      for await (const object of all) if (listed(object)) yield object;
    })();
    return { objects: { source, relativeTo: folder }, known: {} };
  }
  const manifest = await readManifest(job.inputUri, objects);
  if (!readsObjects(job, model, { keys: manifest.keys.slice(0, 1000) })) return { known: { manifest } };
  const source = (async function* () {
    for (const relative of manifest.keys)
      yield { key: readableLocationOf(job, `${manifest.prefix}${relative}`, inputsBucket, true).key };
  })();
  return { objects: { source, relativeTo: parseS3Uri(manifest.prefix)?.key ?? '' }, known: {} };
};

/** The header row found at a CSV file's start: its cells, and where the records after it start. */
interface CsvHeader {
  cells: string[];
  end: number;
  endLine: number;
}

/**
 * `auto`: a header when the first row names every field the model reads. Reads the first row
 * alone (ranged GETs of 64 KiB, growing), never the file.
 */
const csvHeaderOf = async (
  file: ObjectInfo,
  bucket: string,
  job: Job,
  model: PlanningModel,
  objects: ObjectStore,
): Promise<CsvHeader | undefined> => {
  const { fields } = model;
  if (!fields) {
    throw new LongtailError(
      'UNSUPPORTED_FORMAT',
      `Model ${model.name} reads tensors, not named fields: send its records as JSON Lines (Open Inference Protocol requests, or objects keyed by input name).`,
    );
  }
  if (job.options.csvHeader === 'absent') return undefined;
  const first = await readFirstRecord(rangeReaderOf(objects, { bucket, key: file.key }), 'csv', file.size);
  if (!first) return undefined;
  for await (const decoded of decodeRecords(Readable.from([first.bytes]), 'csv', { firstLine: 1 })) {
    const cells =
      decoded.ok && Array.isArray(decoded.value)
        ? (decoded.value as string[]).map((c) => c.trim())
        : undefined;
    const header = { cells: cells ?? [], end: first.end, endLine: first.endLine };
    if (job.options.csvHeader === 'present') return header;
    return cells && fields.every((field) => cells.includes(field.name)) ? header : undefined;
  }
  return undefined;
};

/**
 * Inputs up to this size in all are counted at planning (one read of each, as small as the
 * shards they make), so their jobs show a record total from the start and an input of blank
 * lines fails at once. Larger inputs are not read: their total is the shards' sum at the end.
 */
export const countRecordsUpToBytes = 64 * mib;

const countRecords = async (
  objects: ObjectStore,
  location: { bucket: string; key: string },
  format: RecordFormat,
  skip: number,
): Promise<number> => {
  return countRecordSpans(await objects.openRead(location), format, skip);
};

/**
 * Resolves a job's inputs and plans its shards without reading the records: shards are byte
 * ranges cut to nearly equal sizes (`cutIntoShards`), at most `shardSizeMB` each and within
 * `maxShards` (each non-empty file needs one); the workers align them to records. Reads a CSV
 * file's first row (its header) and, for inputs of at most `countRecordsUpToBytes`, counts the
 * records. Throws typed errors (INPUT_NOT_FOUND, UNSUPPORTED_FORMAT, EMPTY_INPUT, …) for
 * inputs the job cannot run on.
 */
export const buildJobPlan = async (
  job: Job,
  model: PlanningModel,
  deps: { objects: ObjectStore; inputsBucket: string; outputsBucket: string },
): Promise<JobPlan> => {
  checkOwnInput(job);
  const { objects: objectInput, known } = await objectInputOf(job, model, deps.inputsBucket, deps.objects);
  if (objectInput) {
    return buildObjectPlan(job, model, objectInput.source, {
      objects: deps.objects,
      outputsBucket: deps.outputsBucket,
      relativeTo: objectInput.relativeTo,
    });
  }
  const inputs = await resolveInputs(job, deps.inputsBucket, deps.objects, known);
  if (inputs.length > maxArraySize) {
    throw new LongtailError(
      'TOO_MANY_FILES',
      `The input has ${inputs.length} files; a job takes at most ${maxArraySize}.`,
    );
  }
  const bucket = locationOf(job.inputUri).bucket;
  const totalBytes = inputs.reduce((sum, file) => sum + file.size, 0);
  const maxShards = Math.max(inputs.length, Math.min(job.options.maxShards, maxArraySize));
  const counted = totalBytes <= countRecordsUpToBytes;
  const multiFile = job.input.type === 's3' && job.input.s3DataType !== 'S3Object';

  const described: (Omit<PlannedFile, 'firstShard' | 'shardCount'> & {
    dataStart: number;
    firstLine: number;
  })[] = [];
  for (const input of inputs) {
    const format = formatOf(job.options.contentType ?? input.contentType, input.key);
    const outputFormat = job.options.accept ? formatOf(job.options.accept, input.key) : format;
    const { outputUri, failureUri } = multiFile
      ? outputLocationsOf(deps.outputsBucket, job.jobId, input.outputName)
      : { outputUri: job.outputUri, failureUri: job.failureUri };
    const location = { bucket, key: input.key };
    let header: CsvHeader | undefined;
    let records: number | undefined;
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
          `${toS3Uri(location)} is larger than maxPayloadMB (${job.options.maxPayloadMB} MB).`,
        );
      }
      records = 1;
    } else {
      header = format === 'csv' ? await csvHeaderOf(input, bucket, job, model, deps.objects) : undefined;
      if (counted) {
        records = await countRecords(deps.objects, location, format, header?.end ?? 0);
      }
    }
    described.push({
      inputUri: toS3Uri(location),
      format,
      outputFormat,
      outputUri,
      failureUri,
      ...(header ? { header: header.cells } : {}),
      bytes: input.size,
      ...(records !== undefined ? { records } : {}),
      dataStart: header?.end ?? 0,
      firstLine: header?.endLine ?? 1,
    });
  }

  const cuts =
    job.options.splitType === 'None'
      ? described.map((file, index) => ({ file: index, start: 0, end: file.bytes, first: true }))
      : cutIntoShards(
          described.map((file) => ({ start: file.dataStart, end: file.bytes })),
          { targetShardBytes: job.options.shardSizeMB * mib, maxShards },
        );
  const shards: PlannedShard[] = cuts.map((cut, index) => ({
    index,
    file: cut.file,
    start: cut.start,
    end: cut.end,
    firstLine: cut.first ? described[cut.file]!.firstLine : 1,
    startsAtRecord: cut.first,
    atObjectStart: cut.start === 0,
  }));
  const files: PlannedFile[] = described.map(({ dataStart: _start, firstLine: _line, ...file }, index) => {
    const own = shards.filter((shard) => shard.file === index);
    return { ...file, firstShard: own[0]!.index, shardCount: own.length };
  });

  const totalRecords = counted ? files.reduce((sum, file) => sum + (file.records ?? 0), 0) : undefined;
  if (totalRecords === 0)
    throw new LongtailError('EMPTY_INPUT', `The input ${job.inputUri} holds no records.`);
  return {
    jobId: job.jobId,
    model: model.name,
    options: job.options,
    files,
    shards,
    ...(totalRecords !== undefined ? { totalRecords } : {}),
    totalBytes,
  };
};
