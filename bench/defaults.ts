import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { developmentApiKeys } from '../lib/auth/api-keys';
import { S3ObjectStore } from '../lib/aws/s3';
import { startLocalStack } from '../local/stack';
import { submitJob, waitForEnd } from './api-load';
import { measureLimit, probe } from './probe-process';
import type { LimitPoint } from './probes';

/**
 * End to end at the configuration `npm start` gives a user: the stack started with nothing but
 * its defaults, jobs submitted with no options, timed from POST /jobs to `completed` (planning,
 * worker start, model load, every shard, assembly). Each is paired in the same round with the
 * raw rate it is held to, measured on the same host a moment before.
 */
export interface DefaultsPlan {
  crops: { records: number; lines: () => Iterable<string> };
  tabular: { records: number; csv: () => Iterable<string> };
  /** The best ONNX Runtime configuration the bench found for the image model. */
  limit: Pick<LimitPoint, 'sessions' | 'threads' | 'batchSize'>;
  secondsPerPoint: number;
  rounds: number;
}

export interface EndToEndRound {
  seconds: number;
  recordsPerSecond: number;
  rawRecordsPerSecond: number;
  ratio: number;
  /** The slowest shard's seconds over the fastest's, from the workers' own reports. */
  shardSpread: number;
  shards: number;
}

export interface DefaultsReport {
  batchConcurrency: number;
  imageModel: { model: string; records: number; rounds: EndToEndRound[]; median: EndToEndRound };
  tabularModel: { model: string; records: number; rounds: EndToEndRound[]; median: EndToEndRound };
}

const apiKey = developmentApiKeys.split(':')[1] ?? '';
const round = (value: number, digits = 0) => Number(value.toFixed(digits));
const medianOf = (rounds: EndToEndRound[]) =>
  [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)] as EndToEndRound;

export const measureAtDefaults = async (
  plan: DefaultsPlan,
  log: (message: string) => void,
): Promise<DefaultsReport> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'longtail-bench-defaults-'));
  const shardSeconds = new Map<string, number[]>();
  // What `npm start` passes, and nothing else (local/start.ts).
  const batchConcurrency = 2;
  const stack = await startLocalStack({
    apiPort: 0,
    awsPort: 0,
    dataDir,
    apiKeys: developmentApiKeys,
    batchConcurrency,
    workerLogLevel: 'INFO',
    onWorkerLog: (_jobName, line) => {
      try {
        const entry = JSON.parse(line) as { message?: string; jobId?: string; seconds?: number };
        if (entry.message !== 'Shard done' || !entry.jobId || entry.seconds === undefined) return;
        shardSeconds.set(entry.jobId, [...(shardSeconds.get(entry.jobId) ?? []), entry.seconds]);
      } catch {
        // not a log line of ours
      }
    },
  });
  const api = { apiUrl: stack.apiUrl, apiKey };
  const objects = new S3ObjectStore();
  const bucket = stack.names.inputsBucket;
  const put = async (key: string, chunks: Iterable<string>, contentType: string) => {
    await objects.upload({ bucket, key }, Readable.from(chunks), contentType);
    return `s3://${bucket}/${key}`;
  };

  const endToEnd = async (model: string, inputUri: string, records: number, raw: number) => {
    const started = performance.now();
    const jobId = await submitJob(api, { model, input: { s3Uri: inputUri } });
    // Polled as a user's `--wait` would: often enough to see the end, not enough to cost the workers.
    const job = await waitForEnd(api, jobId, 250, 30 * 60_000);
    const seconds = (performance.now() - started) / 1000;
    if (job.status !== 'completed')
      throw new Error(`Bench job ${jobId} ${job.status}: ${JSON.stringify(job.error)}`);
    const shards = shardSeconds.get(jobId) ?? [];
    return {
      seconds: round(seconds, 2),
      recordsPerSecond: round(records / seconds),
      rawRecordsPerSecond: round(raw),
      ratio: round(records / seconds / raw, 3),
      shardSpread: shards.length > 0 ? round(Math.max(...shards) / Math.min(...shards), 2) : NaN,
      shards: shards.length,
    };
  };

  try {
    const cropsUri = await put('bench/defaults-crops.jsonl', plan.crops.lines(), 'application/x-ndjson');
    const csvUri = await put('bench/defaults-customers.csv', plan.tabular.csv(), 'text/csv');
    const imageRounds: EndToEndRound[] = [];
    const tabularRounds: EndToEndRound[] = [];
    for (let index = 1; index <= plan.rounds; index++) {
      log(`defaults, round ${index}: ONNX Runtime limit, then ${plan.crops.records} crops end to end`);
      const limit = await measureLimit(stack, plan.limit.sessions, {
        model: 'text-orientation',
        inputUri: cropsUri,
        threads: [plan.limit.threads],
        batchSizes: [plan.limit.batchSize],
        secondsPerPoint: plan.secondsPerPoint,
      });
      const limitRate = limit.points[0]?.recordsPerSecond ?? NaN;
      imageRounds.push(await endToEnd('text-orientation', cropsUri, plan.crops.records, limitRate));
      log(
        `defaults, round ${index}: raw CSV read+parse+serialize, then ${plan.tabular.records} rows end to end`,
      );
      const rawIo = await probe<{ recordsPerSecond: number }>(
        'raw-io',
        { inputUri: csvUri, outputUri: `s3://${stack.names.outputsBucket}/bench/raw.out`, format: 'csv' },
        stack,
      );
      tabularRounds.push(await endToEnd('churn-risk', csvUri, plan.tabular.records, rawIo.recordsPerSecond));
    }
    return {
      batchConcurrency,
      imageModel: {
        model: 'text-orientation',
        records: plan.crops.records,
        rounds: imageRounds,
        median: medianOf(imageRounds),
      },
      tabularModel: {
        model: 'churn-risk',
        records: plan.tabular.records,
        rounds: tabularRounds,
        median: medianOf(tabularRounds),
      },
    };
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
