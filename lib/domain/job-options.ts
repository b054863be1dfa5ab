import { z } from 'zod';
import { imageContentTypes } from '../records/image-objects';

/**
 * How a job reads, batches and writes its records: SageMaker Batch Transform's options under
 * the same names, plus Longtail's own (CSV header, failure budget, sharding). Defaults are
 * applied at submit time and stored with the job, so every shard runs with the same values.
 */
export const jobOptionsSchema = z.strictObject({
  /**
   * Input format; by default from the object's content type, then its extension. An image type
   * reads each object as one record (a folder of images, or one image).
   */
  contentType: z
    .enum(['text/csv', 'application/x-ndjson', 'application/jsonlines', ...imageContentTypes])
    .optional(),
  /** Output format; by default the input's. */
  accept: z.enum(['text/csv', 'application/x-ndjson', 'application/jsonlines']).optional(),
  /** `Line`: one record per line (CSV row). `None`: the whole object is one JSON record. */
  splitType: z.enum(['Line', 'None']).default('Line'),
  /** `MultiRecord` batches up to maxBatchSize records and maxPayloadMB per inference call. */
  batchStrategy: z.enum(['MultiRecord', 'SingleRecord']).default('MultiRecord'),
  maxPayloadMB: z.number().int().min(1).max(100).default(6),
  maxBatchSize: z.number().int().min(1).max(4096).default(64),
  /** JSONPath (SageMaker's subset) selecting the model's input from each record. */
  inputFilter: z.string().min(1).optional(),
  /** JSONPath selecting what is written from the (joined) output record. */
  outputFilter: z.string().min(1).optional(),
  /** `Input`: the prediction is appended to the input record (CSV columns; a `prediction` field on JSON). */
  joinSource: z.enum(['Input', 'None']).default('None'),
  /** Whether a CSV input starts with a header row; `auto`: when its first row names every model field. */
  csvHeader: z.enum(['auto', 'present', 'absent']).default('auto'),
  /** Fail the job once more than this share of its records has failed. */
  maxFailedRecordsPercent: z.number().min(0).max(100).default(100),
  /** Target input bytes per shard (one AWS Batch array child each). */
  shardSizeMB: z.number().int().min(1).max(10_240).default(64),
  maxShards: z.number().int().min(1).max(10_000).default(100),
  /** Inputs whose objects are records (images): at most this many objects per shard. */
  maxObjectsPerShard: z.number().int().min(1).max(100_000).default(10_000),
  /**
   * Inputs whose objects are records: `joined`, one JSON Lines `.out` for the job, a line per
   * object in key order; `perObject`, SageMaker's layout, `<key>.out` beside each object's name.
   */
  objectOutputs: z.enum(['joined', 'perObject']).default('joined'),
});

export type JobOptions = z.infer<typeof jobOptionsSchema>;

/** Records per inference call: one with `SingleRecord`, else up to maxBatchSize. */
export const batchSizeOf = (options: JobOptions) =>
  options.batchStrategy === 'SingleRecord' ? 1 : options.maxBatchSize;
export type JobOptionsInput = z.input<typeof jobOptionsSchema>;

export const defaultJobOptions = (): JobOptions => jobOptionsSchema.parse({});
