import { workerErrorCodes } from '../../lib/domain/worker-output';
import type { ModelRecord } from '../../lib/models/record-schema';
import type { ModelOutput } from '../../lib/models/tensors';
import type { ImageFailure } from './images/image-batch';
import type { PendingRecord } from './record-admission';
import type { ShardOutput } from './shard-output';

/** What the model made of a batch: a prediction for each record, unless its input could not be read. */
export interface BatchOutcome<TOutput extends ModelOutput = ModelOutput> {
  predictions: TOutput[];
  /** Why a record could not be encoded (an unreadable image), or null. Its prediction means nothing. */
  failures: (ImageFailure | null)[];
}

/** The model as the shard runs it. */
export interface ShardModel<TOutput extends ModelOutput = ModelOutput> {
  /** Encodes and infers a batch; several may be in flight, and finish in any order. */
  run(records: ModelRecord[]): Promise<BatchOutcome<TOutput>>;
  /** How many batches it works on at once (its inference lanes): the shard keeps that many busy. */
  parallelBatches: number;
  /** The most records it runs best in one call (CPU lanes); the job's batch size, when lower, wins. */
  maxBatchSize?: number;
}

export interface BatchLimits {
  /** Records a batch. */
  batchSize: number;
  /** Bytes of records a batch, as read; a larger record is a batch of its own. */
  maxBatchBytes: number;
  /** Batches started beyond those the model works on at once: read, and queued or encoded, ahead. */
  prefetchBatches: number;
}

interface BatchInFlight {
  batch: PendingRecord[];
  outcome: Promise<BatchOutcome>;
}

/**
 * Micro-batches records through the model. Batches are started ahead, in input order: while the
 * model works on the oldest ones, the next are read and handed over (to be encoded ahead, or taken
 * by the next free lane), so that the model never waits for reading or decoding. They are written
 * in input order.
 */
export class BatchPipeline {
  private pending: PendingRecord[] = [];
  private pendingBytes = 0;
  private readonly inFlight: BatchInFlight[] = [];
  private readonly maxInFlight: number;
  private readonly batchSize: number;

  constructor(
    private readonly model: ShardModel,
    private readonly output: ShardOutput,
    private readonly limits: BatchLimits,
  ) {
    this.maxInFlight = model.parallelBatches + limits.prefetchBatches;
    this.batchSize = Math.min(limits.batchSize, model.maxBatchSize ?? limits.batchSize);
  }

  /**
   * Queues a record, starting a batch when the record would overflow it or fills it. Returns a
   * promise only when the caller must wait for the oldest batches to be written: not one a record.
   */
  add(record: PendingRecord): Promise<void> | undefined {
    const bytes = record.bytes ?? Buffer.byteLength(record.raw);
    if (this.pending.length > 0 && this.pendingBytes + bytes > this.limits.maxBatchBytes) this.startPending();
    this.pending.push(record);
    this.pendingBytes += bytes;
    if (this.pending.length >= this.batchSize) this.startPending();
    return this.inFlight.length >= this.maxInFlight ? this.makeRoom() : undefined;
  }

  /** Starts what is queued and writes every batch, oldest first. */
  async finish(): Promise<void> {
    if (this.pending.length > 0) this.startPending();
    while (this.inFlight.length > 0) await this.settleOldest();
  }

  private startPending() {
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.inFlight.push({ batch, outcome: this.start(batch) });
  }

  private async makeRoom() {
    while (this.inFlight.length >= this.maxInFlight) await this.settleOldest();
  }

  /** Starts a batch; its failure is handled when it is settled, in input order. */
  private start(batch: PendingRecord[]): Promise<BatchOutcome> {
    const outcome = this.model.run(batch.map((r) => r.input));
    outcome.catch(() => undefined);
    return outcome;
  }

  private async settleOldest() {
    const oldest = this.inFlight.shift();
    if (!oldest) return;
    await this.settle(oldest.batch, oldest.outcome);
    await this.output.batchWritten();
  }

  /**
   * Writes a batch's predictions; when inference fails, halves the batch until the failing records
   * are alone. A record its encoding rejected (an unreadable image) fails on its own.
   */
  private async settle(batch: PendingRecord[], outcome: Promise<BatchOutcome>): Promise<void> {
    let result: BatchOutcome;
    try {
      result = await outcome;
    } catch (error) {
      if (batch.length === 1) {
        const [only] = batch as [PendingRecord];
        this.output.fail(
          only.line,
          only.raw,
          workerErrorCodes.inferenceFailed,
          `Inference failed: ${(error as Error).message}`,
        );
        return;
      }
      const middle = Math.ceil(batch.length / 2);
      for (const half of [batch.slice(0, middle), batch.slice(middle)])
        await this.settle(half, this.start(half));
      return;
    }
    for (const [i, record] of batch.entries()) {
      const encodingFailure = result.failures[i];
      if (encodingFailure)
        this.output.fail(record.line, record.raw, encodingFailure.code, encodingFailure.message);
      else this.output.write(record, result.predictions[i] as ModelOutput);
    }
  }
}
