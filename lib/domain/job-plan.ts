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
  records: number;
  firstShard: number;
  shardCount: number;
}

export interface PlannedShard {
  index: number;
  file: number;
  start: number;
  end: number;
  firstLine: number;
  records: number;
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
  totalRecords: number;
}

/** AWS Batch array jobs have at most 10,000 children. */
export const maxArraySize = 10_000;
