import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';
import { ObjectNotFound } from '../../lib/aws/object-store';
import type { ObjectStore } from '../../lib/aws/object-store';
import { locationOf } from '../../lib/aws/object-store';
import { LongtailError } from '../../lib/errors';
import type { RecordCounts } from '../../lib/jobs/job';
import { batchSizeOf } from '../../lib/jobs/job-options';
import { shardOutputLocationOf } from '../../lib/jobs/plan';
import type { JobPlan, PlannedFile, PlannedShard } from '../../lib/jobs/plan';
import { workerErrorCodes } from '../../lib/jobs/worker-report';
import type { ModelManifest } from '../../lib/models/manifest';
import { ImageDecodeError } from './images/images';
import { describeIssues, toModelRecord } from '../../lib/models/records';
import type { ModelRecord } from '../../lib/models/records';
import type { Prediction } from '../../lib/models/tensors';
import { decodeRecordChunks } from '../../lib/records/decode';
import type { DecodedRecord } from '../../lib/records/decode';
import { contentTypeOf } from '../../lib/records/formats';
import {
  RecordTransformError,
  compileDataProcessing,
  encodeCsvRow,
  modelInputOf,
  outputRecordOf,
} from '../../lib/transform/data-processing';
import type { CompiledDataProcessing } from '../../lib/transform/data-processing';
import { logger } from '../../lib/logger';

const mib = 1024 * 1024;

/**
 * This process's peak resident memory. Linux's VmHWM, not getrusage's maxRSS: that one survives
 * exec, so a worker forked from a large parent would report the parent's size.
 */
const peakRssMiB = (): number => {
  try {
    const kib = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib) return Math.round(Number(kib) / 1024);
  } catch {
    // not Linux
  }
  return Math.round(process.resourceUsage().maxRSS / 1024);
};

/** A line of the failure file: where the record was, the record as written, and why it failed. */
export interface FailedRecord {
  line: number;
  record: string;
  error: { code: string; message: string };
}

interface PendingRecord {
  line: number;
  raw: string;
  /** The record as decoded, for joining with its prediction. */
  value: unknown;
  input: ModelRecord;
}

/** What the model made of a batch: a prediction for each record, unless its input could not be read. */
export interface BatchOutcome {
  predictions: Prediction[];
  /** Why a record could not be encoded (an unreadable image), or null. Its prediction means nothing. */
  failures: (string | null)[];
}

/** The model as the shard runs it. */
export interface ShardModel {
  /** Encodes and infers a batch; several may be in flight, and finish in any order. */
  run(records: ModelRecord[]): Promise<BatchOutcome>;
  /** How many batches it works on at once (its inference lanes): the shard keeps that many busy. */
  parallelBatches: number;
}

export interface ShardWork {
  plan: JobPlan;
  shard: PlannedShard;
  manifest: ModelManifest;
  model: ShardModel;
  /** Batches started beyond those the model works on at once (default 2): read, and queued or encoded, ahead. */
  prefetchBatches?: number;
  objects: ObjectStore;
  outputsBucket: string;
  /** Called every few seconds and at the end with the counts so far. */
  onProgress: (counts: RecordCounts) => Promise<void>;
  progressIntervalMs?: number;
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

const openShard = async (work: ShardWork, file: PlannedFile): Promise<Readable> => {
  const location = locationOf(file.inputUri);
  try {
    return await work.objects.openRange(location, work.shard.start, work.shard.end - 1);
  } catch (error) {
    if (error instanceof ObjectNotFound) {
      throw new LongtailError(workerErrorCodes.inputNotFound, `The input ${file.inputUri} no longer exists.`);
    }
    throw error;
  }
};

/** `splitType: None`: the whole object is one JSON record. */
async function* wholeObjectRecord(source: Readable): AsyncGenerator<DecodedRecord[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(Buffer.from(chunk as Uint8Array));
  const raw = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  try {
    yield [{ line: 1, raw, ok: true, value: JSON.parse(raw) }];
  } catch (error) {
    yield [{ line: 1, raw, ok: false, error: { code: 'MALFORMED_JSON', message: (error as Error).message } }];
  }
}

/**
 * Runs one shard: streams its byte range, decodes each record, applies the input filter, checks
 * it against the model's fields, micro-batches the good ones through the model and writes each
 * prediction (joined and filtered as the job asks) in input order. A record that fails, at any
 * step, goes to the failure file with its line and reason; a batch that fails inference is split
 * until the records that cause it stand alone. Memory stays bounded whatever the shard's size.
 */
export const runPlannedShard = async (work: ShardWork): Promise<RecordCounts> => {
  const { plan, shard, manifest } = work;
  const started = performance.now();
  const file = plan.files[shard.file];
  if (!file) throw new Error(`Plan has no file ${shard.file} for shard ${shard.index}`);
  const options = plan.options;
  const compiled: CompiledDataProcessing = compileDataProcessing(options, file.format);
  const batchSize = batchSizeOf(options);
  const maxBatchBytes = options.maxPayloadMB * mib;

  const locations = shardOutputLocationOf(work.outputsBucket, plan.jobId, shard.index);
  const outputs = new LineWriter();
  const failures = new LineWriter();
  const uploads = Promise.all([
    work.objects.upload(locations.output, outputs.stream, contentTypeOf(file.outputFormat)),
    work.objects.upload(locations.failures, failures.stream, 'application/x-ndjson'),
  ]);
  const counts: RecordCounts = { total: 0, succeeded: 0, failed: 0 };
  let lastProgress = Date.now();
  const progressEvery = work.progressIntervalMs ?? 2000;

  const fail = (line: number, raw: string, code: string, message: string) => {
    counts.failed++;
    const failed: FailedRecord = { line, record: raw, error: { code, message } };
    failures.add(JSON.stringify(failed));
  };

  const write = (record: PendingRecord, prediction: Prediction) => {
    try {
      const output = outputRecordOf(compiled, record.value, prediction, file.outputFormat);
      outputs.add(file.outputFormat === 'csv' ? encodeCsvRow(output as unknown[]) : JSON.stringify(output));
      counts.succeeded++;
    } catch (error) {
      if (!(error instanceof RecordTransformError)) throw error;
      fail(record.line, record.raw, error.code, error.message);
    }
  };

  /** Starts a batch; its failure is handled when it is settled, in input order. */
  const start = (batch: PendingRecord[]) => {
    const outcome = work.model.run(batch.map((r) => r.input));
    outcome.catch(() => undefined);
    return outcome;
  };

  /**
   * Writes a batch's predictions; when inference fails, halves the batch until the failing records
   * are alone. A record its encoding rejected (an unreadable image) fails on its own.
   */
  const settle = async (batch: PendingRecord[], outcome: Promise<BatchOutcome>): Promise<void> => {
    let result: BatchOutcome;
    try {
      result = await outcome;
    } catch (error) {
      if (batch.length === 1) {
        const [only] = batch as [PendingRecord];
        fail(
          only.line,
          only.raw,
          workerErrorCodes.inferenceFailed,
          `Inference failed: ${(error as Error).message}`,
        );
        return;
      }
      const middle = Math.ceil(batch.length / 2);
      for (const half of [batch.slice(0, middle), batch.slice(middle)]) await settle(half, start(half));
      return;
    }
    for (const [i, record] of batch.entries()) {
      const encodingFailure = result.failures[i];
      if (encodingFailure) fail(record.line, record.raw, ImageDecodeError.code, encodingFailure);
      else write(record, result.predictions[i] as Prediction);
    }
  };

  const checkFailureBudget = () => {
    const processed = counts.succeeded + counts.failed;
    const enough = Math.min(100, shard.records);
    if (processed >= enough && (counts.failed * 100) / processed > options.maxFailedRecordsPercent) {
      throw new LongtailError(
        'TOO_MANY_FAILED_RECORDS',
        `${counts.failed} of ${processed} records failed in shard ${shard.index}, more than maxFailedRecordsPercent (${options.maxFailedRecordsPercent}%).`,
      );
    }
  };

  // Batches started, in input order: while the model works on the oldest ones, the next are read
  // and handed over (to be encoded ahead, or taken by the next free lane), so that the model never
  // waits for reading or decoding. They are written in input order.
  const inFlight: { batch: PendingRecord[]; outcome: Promise<BatchOutcome> }[] = [];
  const maxInFlight = work.model.parallelBatches + (work.prefetchBatches ?? 2);
  const settleOldest = async () => {
    const oldest = inFlight.shift();
    if (!oldest) return;
    await settle(oldest.batch, oldest.outcome);
    await Promise.all([outputs.flush(), failures.flush()]);
    checkFailureBudget();
    if (Date.now() - lastProgress >= progressEvery) {
      lastProgress = Date.now();
      await work.onProgress({ ...counts });
    }
  };

  let pending: PendingRecord[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    const batch = pending;
    pending = [];
    pendingBytes = 0;
    if (batch.length > 0) inFlight.push({ batch, outcome: start(batch) });
    while (inFlight.length >= maxInFlight) await settleOldest();
  };

  const source = await openShard(work, file);
  const chunks =
    options.splitType === 'None'
      ? wholeObjectRecord(source)
      : decodeRecordChunks(source, file.format, {
          firstLine: shard.firstLine,
          atObjectStart: shard.atObjectStart,
          maxRecordBytes: maxBatchBytes,
        });
  try {
    for await (const chunk of chunks) {
      for (const decoded of chunk) {
        counts.total++;
        if (!decoded.ok) {
          fail(decoded.line, decoded.raw, decoded.error.code, decoded.error.message);
          continue;
        }
        let input: unknown;
        try {
          input = modelInputOf(compiled, decoded.value);
        } catch (error) {
          if (!(error instanceof RecordTransformError)) throw error;
          fail(decoded.line, decoded.raw, error.code, error.message);
          continue;
        }
        const check = toModelRecord(manifest, input, file.header);
        if (!check.ok) {
          fail(decoded.line, decoded.raw, 'INVALID_RECORD', describeIssues(check.issues));
          continue;
        }
        const bytes = Buffer.byteLength(decoded.raw);
        if (pending.length > 0 && pendingBytes + bytes > maxBatchBytes) await flush();
        pending.push({ line: decoded.line, raw: decoded.raw, value: decoded.value, input: check.record });
        pendingBytes += bytes;
        if (pending.length >= batchSize) await flush();
      }
      // Failures of records that never reach the model are written as they come.
      await failures.flush();
    }
    await flush();
    while (inFlight.length > 0) await settleOldest();
    // Again at the end: a shard whose records all fail before reaching the model settles no batch.
    checkFailureBudget();
  } catch (error) {
    // What was written is uploaded as is; a retried attempt replaces it.
    source.destroy();
    outputs.end();
    failures.end();
    await uploads.catch(() => undefined);
    throw error;
  }
  outputs.end();
  failures.end();
  await uploads;
  await work.onProgress({ ...counts });
  const seconds = (performance.now() - started) / 1000;
  // npm run bench reads these: throughput from first byte read to last byte uploaded.
  logger.info('Shard done', {
    shard: shard.index,
    counts,
    seconds: +seconds.toFixed(3),
    recordsPerSecond: Math.round(counts.total / seconds),
    peakRssMiB: peakRssMiB(),
    memoryMiB: Object.fromEntries(
      Object.entries(process.memoryUsage()).map(([kind, bytes]) => [kind, Math.round(bytes / mib)]),
    ),
  });
  return counts;
};
