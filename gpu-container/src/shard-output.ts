import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ObjectStore } from '../../lib/ports/object-store';
import type { S3Location } from '../../lib/domain/s3-location';
import { LongtailError } from '../../lib/errors';
import type { RecordCounts } from '../../lib/domain/job';
import type { PlannedShard } from '../../lib/domain/job-plan';
import type { ModelOutput } from '../../lib/models/tensors';
import { contentTypeOf } from '../../lib/records/formats';
import type { RecordFormat } from '../../lib/records/formats';
import { RecordTransformError, encodeCsvRow, outputRecordOf } from '../../lib/transform/data-processing';
import type { CompiledDataProcessing } from '../../lib/transform/data-processing';
import type { FailureLine } from '../../lib/domain/worker-output';

/** Where a record was and what it said: enough for its output line or its failure line. */
interface SourceRecord {
  line: number;
  raw: string;
  value: unknown;
}

/**
 * Lines gathered during a batch and written at its end in one piece: one stream write (and one
 * await) a batch rather than a record. The write honours backpressure, so a slow upload slows
 * reading, not memory.
 */
class LineWriter {
  readonly stream = new PassThrough();
  private lines: string[] = [];
  add(line: string) {
    this.lines.push(line);
  }
  async flush() {
    if (this.lines.length === 0) return;
    const text = `${this.lines.join('\n')}\n`;
    this.lines = [];
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }
  end() {
    this.stream.end();
  }
}

export interface ShardOutputSettings {
  objects: ObjectStore;
  /** The shard's output and failure objects. */
  locations: { output: S3Location; failures: S3Location };
  outputFormat: RecordFormat;
  compiled: CompiledDataProcessing;
  shard: PlannedShard;
  maxFailedRecordsPercent: number;
  onProgress: (counts: RecordCounts) => Promise<void>;
  progressIntervalMs: number;
  /**
   * Objects as records with `objectOutputs: perObject`: where a record's own `.out` goes (its
   * line is written there, not to the shard's output).
   */
  perObjectLocation?: (value: unknown) => S3Location;
}

/**
 * The shard's output and failure files, streamed to S3 as they are written, and its counts. Lines
 * go out in the order they are added: input order, as long as batches are settled in input order.
 */
export class ShardOutput {
  readonly counts: RecordCounts = { total: 0, succeeded: 0, failed: 0 };
  private readonly outputs = new LineWriter();
  private readonly failures = new LineWriter();
  private readonly uploads: Promise<unknown>;
  private lastProgress = Date.now();
  /** Per-object outputs being written, waited for at the end of each batch. */
  private objectWrites: Promise<void>[] = [];

  constructor(private readonly settings: ShardOutputSettings) {
    const { objects, locations, outputFormat } = settings;
    this.uploads = Promise.all([
      objects.upload(locations.output, this.outputs.stream, contentTypeOf(outputFormat)),
      objects.upload(locations.failures, this.failures.stream, 'application/x-ndjson'),
    ]);
  }

  fail(line: number, raw: string, code: string, message: string) {
    this.counts.failed++;
    const failed: FailureLine = { line, record: raw, error: { code, message } };
    this.failures.add(JSON.stringify(failed));
  }

  /** The record joined with its prediction and filtered as the job asks; a record the filter rejects fails. */
  write(record: SourceRecord, prediction: ModelOutput) {
    const { compiled, outputFormat } = this.settings;
    try {
      const output = outputRecordOf(compiled, record.value, prediction, outputFormat);
      const line = outputFormat === 'csv' ? encodeCsvRow(output as unknown[]) : JSON.stringify(output);
      const own = this.settings.perObjectLocation?.(record.value);
      if (own)
        this.objectWrites.push(this.settings.objects.putText(own, `${line}\n`, contentTypeOf(outputFormat)));
      else this.outputs.add(line);
      this.counts.succeeded++;
    } catch (error) {
      if (!(error instanceof RecordTransformError)) throw error;
      this.fail(record.line, record.raw, error.code, error.message);
    }
  }

  /** Failures of records that never reach the model are written as they come. */
  flushFailures(): Promise<void> {
    return this.failures.flush();
  }

  /** After each batch: its lines written, the failure budget checked, progress reported every few seconds. */
  async batchWritten(): Promise<void> {
    const objectWrites = this.objectWrites.splice(0);
    await Promise.all([this.outputs.flush(), this.failures.flush(), ...objectWrites]);
    this.checkFailureBudget();
    if (Date.now() - this.lastProgress >= this.settings.progressIntervalMs) {
      this.lastProgress = Date.now();
      await this.settings.onProgress({ ...this.counts });
    }
  }

  /** Judged on 100 records at least while the shard runs (its record count is not known), on all at its end. */
  checkFailureBudget(final = false) {
    const { counts } = this;
    const { shard, maxFailedRecordsPercent } = this.settings;
    const processed = counts.succeeded + counts.failed;
    const enough = final ? 1 : 100;
    if (processed >= enough && (counts.failed * 100) / processed > maxFailedRecordsPercent) {
      throw new LongtailError(
        'TOO_MANY_FAILED_RECORDS',
        `${counts.failed} of ${processed} records failed in shard ${shard.index}, more than maxFailedRecordsPercent (${maxFailedRecordsPercent}%).`,
      );
    }
  }

  /** Ends both files, waits for their uploads, and reports the final counts. */
  async close(): Promise<void> {
    await Promise.all(this.objectWrites.splice(0));
    this.outputs.end();
    this.failures.end();
    await this.uploads;
    await this.settings.onProgress({ ...this.counts });
  }

  /** What was written is uploaded as is; a retried attempt replaces it. */
  async abandon(): Promise<void> {
    await Promise.allSettled(this.objectWrites.splice(0));
    this.outputs.end();
    this.failures.end();
    await this.uploads.catch(() => undefined);
  }
}
