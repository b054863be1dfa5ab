import { readFileSync } from 'node:fs';
import type { ObjectStore } from '../../lib/ports/object-store';
import type { RecordCounts } from '../../lib/domain/job';
import { batchSizeOf } from '../../lib/domain/job-options';
import { shardOutputLocationOf } from '../../lib/domain/locations';
import type { JobPlan, PlannedShard } from '../../lib/domain/job-plan';
import { recordCheckerOf } from '../../lib/models/record-check';
import type { ServedModelShape } from '../../lib/models/record-check';
import { compileDataProcessing } from '../../lib/transform/data-processing';
import { logger } from '../../lib/logger';
import { BatchPipeline } from './batch-pipeline';
import type { ShardModel } from './batch-pipeline';
import { openShardRecords, recordAdmission } from './record-admission';
import { ShardOutput } from './shard-output';
import { fetchListedObjects, objectFetchLimitsFromEnv, perObjectLocationOf } from './object-records';
import type { ReadPosition } from '../../lib/records/record-boundary';

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

/** npm run bench reads this line: throughput from first byte read to last byte uploaded. */
const logShardDone = (shard: PlannedShard, counts: RecordCounts, started: number) => {
  const seconds = (performance.now() - started) / 1000;
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
};

export interface ShardWork {
  plan: JobPlan;
  shard: PlannedShard;
  /** What records must look like: the version's manifest, or its graph's signature. */
  served: ServedModelShape;
  model: ShardModel;
  /** Batches started beyond those the model works on at once (default 2): read, and queued or encoded, ahead. */
  prefetchBatches?: number;
  objects: ObjectStore;
  outputsBucket: string;
  /** Called every few seconds and at the end with the counts so far, and how far the input was read. */
  onProgress: (counts: RecordCounts, read: ReadPosition) => Promise<void>;
  progressIntervalMs?: number;
}

/**
 * Runs one shard: streams its byte range, decodes each record, applies the input filter, checks
 * it against the model's fields, micro-batches the good ones through the model and writes each
 * prediction (joined and filtered as the job asks) in input order. A record that fails, at any
 * step, goes to the failure file with its line and reason; a batch that fails inference is split
 * until the records that cause it stand alone. Memory stays bounded whatever the shard's size.
 */
export const runPlannedShard = async (work: ShardWork): Promise<RecordCounts> => {
  const { plan, shard } = work;
  const started = performance.now();
  const file = plan.files[shard.file];
  if (!file) throw new Error(`Plan has no file ${shard.file} for shard ${shard.index}`);
  // An object's output line is its key and ETag joined with its prediction: what a user joins on.
  const options = file.objects
    ? { ...plan.options, joinSource: 'Input' as const, inputFilter: undefined, splitType: 'Line' as const }
    : plan.options;
  const compiled = compileDataProcessing(options, file.format);
  const maxBatchBytes = options.maxPayloadMB * mib;

  let position: ReadPosition = { bytes: 0, lines: 0 };
  const output = new ShardOutput({
    objects: work.objects,
    locations: shardOutputLocationOf(work.outputsBucket, plan.jobId, shard.index),
    outputFormat: file.outputFormat,
    compiled,
    shard,
    maxFailedRecordsPercent: options.maxFailedRecordsPercent,
    onProgress: (counts) => work.onProgress(counts, { ...position }),
    progressIntervalMs: work.progressIntervalMs ?? 2000,
    ...(file.objects?.outputs === 'perObject'
      ? { perObjectLocation: perObjectLocationOf(work.outputsBucket, plan.jobId, file.objects) }
      : {}),
  });
  const admit = recordAdmission(recordCheckerOf(work.served), compiled, file.header, output);
  const batches = new BatchPipeline(work.model, output, {
    batchSize: batchSizeOf(options),
    maxBatchBytes,
    prefetchBatches: work.prefetchBatches ?? 2,
  });

  const opened = await openShardRecords(work.objects, file, shard, {
    splitType: options.splitType,
    maxRecordBytes: maxBatchBytes,
  });
  const { source, chunks } = opened;
  position = opened.position;
  try {
    if (file.objects) {
      const settings = { objects: work.objects, planned: file.objects, ...objectFetchLimitsFromEnv() };
      for await (const fetched of fetchListedObjects(chunks, settings)) {
        output.counts.total++;
        if (!fetched.ok) {
          output.fail(fetched.line, fetched.raw, fetched.code, fetched.message);
          continue;
        }
        const room = batches.add(fetched.record);
        if (room) await room;
      }
    } else {
      for await (const chunk of chunks) {
        for (const decoded of chunk) {
          const record = admit(decoded);
          if (!record) continue;
          const room = batches.add(record);
          if (room) await room;
        }
        await output.flushFailures();
      }
    }
    await batches.finish();
    // Again at the end: a shard whose records all fail before reaching the model settles no batch.
    output.checkFailureBudget(true);
  } catch (error) {
    source.destroy();
    await output.abandon();
    throw error;
  }
  await output.close();
  logShardDone(shard, output.counts, started);
  return output.counts;
};
