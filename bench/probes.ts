import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import * as ort from 'onnxruntime-node';
import { S3ObjectStore } from '../lib/aws/s3';
import { locationOf } from '../lib/domain/s3-location';
import { decodeRecordChunks } from '../lib/records/decode';
import type { ModelManifest } from '../lib/models/manifest';
import { toModelRecord } from '../lib/models/record-schema';
import type { ModelRecord } from '../lib/models/record-schema';
import { openSession } from '../gpu-container/src/execution-provider';
import type { ProviderChoice } from '../gpu-container/src/execution-provider';
import { createInputEncoder } from '../gpu-container/src/model-inputs';
import { loadModelFiles } from '../gpu-container/src/model-loader';
import { predict } from '../gpu-container/src/predict';

/**
 * Measurements that `bench/run.ts` starts each in a process of its own, so that none shares a
 * heap, a JIT or an ONNX Runtime thread pool with another or with the local runtime.
 */

export interface LimitPoint {
  /** Sessions side by side, each in a process of its own (bench/run.ts sums them). */
  sessions: number;
  threads: number;
  batchSize: number;
  recordsPerSecond: number;
}

const seconds = (since: number) => (performance.now() - since) / 1000;

/** The first `count` records of a JSON Lines object, as the model reads them. */
const readRecords = async (uri: string, manifest: ModelManifest, count: number): Promise<ModelRecord[]> => {
  const lines = createInterface({ input: await new S3ObjectStore().openRead(locationOf(uri)) });
  const records: ModelRecord[] = [];
  for await (const line of lines) {
    const check = toModelRecord(manifest, JSON.parse(line));
    if (check.ok) records.push(check.record);
    if (records.length >= count) break;
  }
  lines.close();
  return records;
};

/**
 * The limit: ONNX Runtime alone, tensors already in memory (encoded once from the job's own
 * records), for each thread count and batch size, each point run for `secondsPerPoint`.
 */
export const measureLimit = async (args: {
  model: string;
  inputUri: string;
  provider: ProviderChoice;
  threads: number[];
  batchSizes: number[];
  secondsPerPoint: number;
}): Promise<{ provider: string; points: Omit<LimitPoint, 'sessions'>[]; encodeRecordsPerSecond: number }> => {
  const files = await loadModelFiles('models', args.model);
  const records = await readRecords(args.inputUri, files.manifest, Math.max(...args.batchSizes));
  const encoder = createInputEncoder(files.manifest, { preprocessThreads: 0 });
  const feedsBySize = new Map<number, Record<string, ort.Tensor>>();
  for (const batchSize of args.batchSizes) {
    const { feeds } = await encoder.encode(records.slice(0, batchSize));
    feedsBySize.set(
      batchSize,
      Object.fromEntries(
        Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor('float32', t.data, t.dims)]),
      ),
    );
  }
  let provider = 'cpu';
  const points: Omit<LimitPoint, 'sessions'>[] = [];
  for (const threads of args.threads) {
    const opened = await openSession(files.onnxPath, args.provider, threads);
    provider = opened.provider;
    for (const [batchSize, feeds] of feedsBySize) {
      for (let i = 0; i < 3; i++) await opened.session.run(feeds);
      let runs = 0;
      const started = performance.now();
      while (seconds(started) < args.secondsPerPoint || runs < 3) {
        await opened.session.run(feeds);
        runs++;
      }
      points.push({ threads, batchSize, recordsPerSecond: (runs * batchSize) / seconds(started) });
    }
    await opened.session.release();
  }
  // What turning records into tensors costs, on one thread: the work the pipeline adds.
  let encoded = 0;
  const started = performance.now();
  while (seconds(started) < args.secondsPerPoint || encoded < records.length) {
    await encoder.encode(records);
    encoded += records.length;
  }
  return { provider, points, encodeRecordsPerSecond: encoded / seconds(started) };
};

/**
 * The worker most people write first: read a line, await the model on it, keep the result, next
 * line; one upload at the end. Same model and records as the pipeline, and the session a single
 * session gets (one intra-op thread per vCPU).
 */
export const runNaiveWorker = async (args: {
  model: string;
  inputUri: string;
  outputUri: string;
  provider: ProviderChoice;
}): Promise<{ records: number; seconds: number; recordsPerSecond: number }> => {
  const files = await loadModelFiles('models', args.model);
  const { session } = await openSession(files.onnxPath, args.provider);
  const encoder = createInputEncoder(files.manifest, { preprocessThreads: 0 });
  const objects = new S3ObjectStore();
  const started = performance.now();
  const lines = createInterface({ input: await objects.openRead(locationOf(args.inputUri)) });
  const output: string[] = [];
  for await (const line of lines) {
    const record = JSON.parse(line) as Record<string, unknown>;
    const check = toModelRecord(files.manifest, record);
    if (!check.ok) continue;
    const batch = await encoder.encode([check.record]);
    const [prediction] = await predict(session, files.manifest, batch, files.alphabet);
    output.push(JSON.stringify({ id: record.id, prediction }));
  }
  await objects.putText(locationOf(args.outputUri), output.join('\n') + '\n', 'application/x-ndjson');
  const elapsed = seconds(started);
  return { records: output.length, seconds: elapsed, recordsPerSecond: output.length / elapsed };
};

/**
 * The I/O limit: what reading the file from S3, parsing each record and serializing it back to S3
 * costs with no model at all, streamed as the worker streams.
 */
export const runRawIo = async (args: {
  inputUri: string;
  outputUri: string;
  /** JSON Lines (the default) are split and parsed by hand; CSV goes through the worker's decoder. */
  format?: 'jsonl' | 'csv';
}): Promise<{ records: number; seconds: number; recordsPerSecond: number }> => {
  const objects = new S3ObjectStore();
  const started = performance.now();
  const body = new PassThrough();
  const upload = objects.upload(locationOf(args.outputUri), body, 'application/x-ndjson');
  const input = await objects.openRead(locationOf(args.inputUri));
  let records = 0;
  const write = async (record: unknown) => {
    if (!body.write(`${JSON.stringify(record)}\n`))
      await new Promise((resolve) => body.once('drain', resolve));
    records++;
  };
  if (args.format === 'csv') {
    for await (const batch of decodeRecordChunks(input, 'csv', { firstLine: 1 })) {
      for (const record of batch) if (record.ok) await write(record.value);
    }
  } else {
    for await (const line of createInterface({ input })) await write(JSON.parse(line) as unknown);
  }
  body.end();
  await upload;
  const elapsed = seconds(started);
  return { records, seconds: elapsed, recordsPerSecond: records / elapsed };
};

const probes = { limit: measureLimit, naive: runNaiveWorker, 'raw-io': runRawIo } as const;

/** `tsx bench/probes.ts <probe> '<json args>'`: prints the result as one JSON line. */
if (require.main === module) {
  const [name, json] = process.argv.slice(2);
  const probe = probes[name as keyof typeof probes] as (args: unknown) => Promise<unknown>;
  probe(JSON.parse(json ?? '{}')).then(
    (result) => console.log(JSON.stringify(result)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
