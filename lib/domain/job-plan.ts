import type { Job } from './job';
import type { ModelVersion } from './model-version';
import type { RecordFormat } from '../records/formats';

/**
 * A job's plan: its input files and the byte ranges (shards) AWS Batch array children process.
 * It lives in S3 (`work/<jobId>/plan.json`), so the state machine carries only its location and
 * the shard count, whatever the number of shards.
 */
export interface PlannedFile {
  inputUri: string;
  format: RecordFormat;
  outputFormat: RecordFormat;
  outputUri: string;
  failureUri: string;
  /** CSV header cells, when the file has a header row. */
  header?: string[];
  bytes: number;
  /** Counted at planning only for small inputs (see `buildJobPlan`); otherwise the shards count them. */
  records?: number;
  firstShard: number;
  shardCount: number;
  /**
   * Set when each object of the input is one record (images): this "file" is then the job's
   * listing of those objects, a JSON line each (`ObjectListingLine`), and its shards are exact
   * ranges of its lines, numbered from the listing's first line.
   */
  objects?: PlannedObjects;
}

export interface PlannedObjects {
  /** The bucket the listed keys are in. */
  bucket: string;
  /** The record field the model's image input reads: each object's bytes go in it. */
  imageField: string;
  /** `perObject` outputs are named by the key after this prefix. */
  relativeTo: string;
  outputs: 'joined' | 'perObject';
}

/** One line of a job's object listing: the key, and its size and ETag where the listing gave them. */
export interface ObjectListingLine {
  key: string;
  size?: number;
  etag?: string;
}

/**
 * Bytes [start, end) of a file, cut by size without reading it. The shard's records are those
 * whose first byte lies in the range: the worker moves `start` (unless `startsAtRecord`) and
 * `end` to the next record boundary (`alignedRangeOf`), so adjacent shards meet exactly.
 */
export interface PlannedShard {
  index: number;
  file: number;
  start: number;
  end: number;
  /**
   * Line number of the first byte the shard reads. Known for a file's first shard (1, or the
   * line after the CSV header); 1 for the others, whose failure lines are made absolute at
   * assembly from the line counts the shards before them report.
   */
  firstLine: number;
  /** `start` is a record boundary already: the file's first shard. */
  startsAtRecord: boolean;
  /** Whether the range starts at the object's first byte (a BOM there is dropped). */
  atObjectStart: boolean;
}

/** The model version a job pinned, as much of it as the worker needs to fetch and run it. */
export type PlannedModel = Pick<
  ModelVersion,
  | 'ownerId'
  | 'name'
  | 'version'
  | 'checksum'
  | 'size'
  | 'files'
  | 'onnxFile'
  | 'location'
  | 'manifest'
  | 'signature'
>;

export const plannedModelOf = (version: ModelVersion): PlannedModel => ({
  ownerId: version.ownerId,
  name: version.name,
  version: version.version,
  checksum: version.checksum,
  size: version.size,
  files: version.files,
  onnxFile: version.onnxFile,
  location: version.location,
  ...(version.manifest ? { manifest: version.manifest } : {}),
  ...(version.signature ? { signature: version.signature } : {}),
});

export interface JobPlan {
  jobId: string;
  model: string;
  /** Set by "Plan the shards" from the registry; the worker fetches exactly this. */
  modelVersion?: PlannedModel;
  options: Job['options'];
  files: PlannedFile[];
  shards: PlannedShard[];
  /** Known when planning counted the records (small inputs); otherwise the sum of the shards' counts at the end. */
  totalRecords?: number;
  /** The input's size: progress is bytes done of this when `totalRecords` is unknown. */
  totalBytes: number;
}

/** AWS Batch array jobs have at most 10,000 children. */
export const maxArraySize = 10_000;
