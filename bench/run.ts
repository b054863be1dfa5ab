import './quiet';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { developmentApiKeys } from '../lib/auth/api-keys';
import { S3ObjectStore } from '../lib/aws/s3';
import { gpuVisible } from '../gpu-container/src/execution-provider';
import { demoCustomers, toJsonLines } from '../local/demo-data';
import { startLocalStack } from '../local/stack';
import type { LocalStack } from '../local/stack';
import { measureSubmitLoad, measureSubmitToCompleted, submitJob, waitForEnd } from './api-load';
import type { SubmitLoad } from './api-load';
import { throughputChart } from './chart';
import type { ChartPoint } from './chart';
import type { LimitPoint } from './probes';
import { measureLimit, probe, provider } from './probe-process';
import { measureAtDefaults } from './defaults';
import { measureObjects } from './image-objects';
import type { ObjectsReport } from './image-objects';
import type { DefaultsReport } from './defaults';
import { textCrops } from './text-crops';

/**
 * `npm run bench [-- --quick]`: every figure a ratio or a pair measured in this one run, on the
 * same records. Prints a table, writes bench/reports/<mode>.json and a chart of throughput
 * against batch size. `--quick` (under a minute) is for routine checks; the full run is what the
 * README shows.
 */

const run = promisify(execFile);
const quick = process.argv.includes('--quick');
const mode = quick ? 'quick' : 'full';
const apiKey = developmentApiKeys.split(':')[1] ?? '';
const reportsDir = resolve(__dirname, 'reports');

const plan = quick
  ? {
      orientation: { records: 2_000, batchSizes: [4, 16], pipelineBatchSizes: [16] },
      recognition: { records: 80, batchSizes: [1, 4], pipelineBatchSizes: [] as number[] },
      naiveRecords: { orientation: 600, recognition: 24 },
      tabular: { records: 60_000 },
      secondsPerPoint: 0.3,
      rounds: 1,
      submitToCompleted: 2,
      load: { seconds: 3, connections: 16 },
      defaults: { crops: 4_000, tabular: 60_000, rounds: 1 },
      objects: { objects: 500, rounds: 1, singleImageRuns: 3, memory: { crops: 100, scans: 2 } },
    }
  : {
      orientation: {
        records: 8_000,
        batchSizes: [1, 2, 4, 8, 16, 32, 64, 128],
        pipelineBatchSizes: [1, 4, 8, 16, 32, 64],
      },
      recognition: { records: 240, batchSizes: [1, 2, 4, 8, 16], pipelineBatchSizes: [1, 2, 4, 8] },
      naiveRecords: { orientation: 6_000, recognition: 200 },
      tabular: { records: 400_000 },
      secondsPerPoint: 2,
      // A shared host's neighbours take its CPU for minutes at a time: the limit and the pipeline
      // are measured back to back this many times, and the median round's pair reported.
      rounds: 5,
      submitToCompleted: 5,
      load: { seconds: 15, connections: 32 },
      defaults: { crops: 30_000, tabular: 400_000, rounds: 3 },
      objects: { objects: 5_000, rounds: 3, singleImageRuns: 5, memory: { crops: 400, scans: 4 } },
    };

const threadCounts = [...new Set([1, Math.max(1, availableParallelism() / 2), availableParallelism()])];
const describeLimit = ({ sessions, threads, batchSize }: LimitPoint) =>
  `batch ${batchSize}, ${sessions > 1 ? `${sessions} sessions × ${threads} thread` : `${threads} thread${threads > 1 ? 's' : ''}`}`;

interface ShardDone {
  recordsPerSecond: number;
  seconds: number;
  peakRssMiB: number;
  counts: { total: number; succeeded: number; failed: number };
}

/** The workers' "Shard done" lines, by job id, as they are logged. */
class ShardReports {
  private readonly reports = new Map<string, ShardDone>();
  private readonly waiting = new Map<string, (report: ShardDone) => void>();

  add(jobId: string, report: ShardDone) {
    this.reports.set(jobId, report);
    this.waiting.get(jobId)?.(report);
  }

  next(jobId: string): Promise<ShardDone> {
    const report = this.reports.get(jobId);
    if (report) return Promise.resolve(report);
    return new Promise((resolve) => this.waiting.set(jobId, resolve));
  }
}

/**
 * One job through the local runtime (API → Step Functions → Batch → worker); the worker's own
 * timing. The API is asked about the job only once a second while the worker runs: on two vCPUs
 * faster polling would take time from the worker.
 */
const runJob = async (
  stack: LocalStack,
  shardReports: ShardReports,
  model: string,
  inputUri: string,
  options: Record<string, unknown>,
): Promise<ShardDone & { jobSeconds: number }> => {
  const api = { apiUrl: stack.apiUrl, apiKey };
  const started = performance.now();
  const jobId = await submitJob(api, {
    model,
    input: { s3Uri: inputUri },
    options: {
      maxShards: 1,
      shardSizeMB: 10_240,
      joinSource: 'Input',
      outputFilter: "$['id','prediction']",
      ...options,
    },
  });
  // A job that fails before its worker reports must not leave the bench waiting: the API is
  // asked once a second meanwhile, which costs the worker next to nothing.
  const ended = waitForEnd(api, jobId, 1000);
  const first = await Promise.race([shardReports.next(jobId), ended]);
  const job = 'status' in first ? first : await ended;
  if (job.status !== 'completed') {
    throw new Error(`Bench job ${jobId} ${job.status}: ${JSON.stringify(job.error)}`);
  }
  const report = await shardReports.next(jobId);
  if (report.counts.failed > 0) throw new Error(`Bench job ${jobId}: ${report.counts.failed} records failed`);
  return { ...report, jobSeconds: (performance.now() - started) / 1000 };
};

const hostOf = async () => {
  let gpu: string | undefined;
  try {
    gpu = (
      await run('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'])
    ).stdout.trim();
  } catch {
    gpu = undefined;
  }
  return {
    cpu: cpus()[0]?.model.trim(),
    vcpus: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    gpu: gpu ?? null,
    gpuVisible: gpuVisible(),
    node: process.version,
    onnxruntime: ort.env.versions.node,
  };
};

const best = (points: LimitPoint[]) =>
  points.reduce((top, point) => (point.recordsPerSecond > top.recordsPerSecond ? point : top));

const round = (value: number, digits = 0) => Number(value.toFixed(digits));

const main = async () => {
  const benchStarted = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'longtail-bench-'));
  const shardReports = new ShardReports();
  // This stack's workers run each batch size the sweeps ask for: the CPU lanes' own cap
  // (LONGTAIL_CPU_MAX_BATCH) is off for it alone; the defaults section's stack has it, as users do.
  const cpuMaxBatch = process.env.LONGTAIL_CPU_MAX_BATCH;
  process.env.LONGTAIL_CPU_MAX_BATCH = '0';
  const stack = await startLocalStack({
    apiPort: 0,
    awsPort: 0,
    dataDir,
    apiKeys: developmentApiKeys,
    batchConcurrency: 1,
    workerLogLevel: 'INFO',
    onWorkerLog: (_jobName, line) => {
      try {
        const entry = JSON.parse(line) as { message?: string; jobId?: string } & ShardDone;
        if (entry.message === 'Shard done' && entry.jobId) shardReports.add(entry.jobId, entry);
      } catch {
        // not a log line of ours
      }
    },
  });
  if (cpuMaxBatch === undefined) delete process.env.LONGTAIL_CPU_MAX_BATCH;
  else process.env.LONGTAIL_CPU_MAX_BATCH = cpuMaxBatch;
  const objects = new S3ObjectStore();
  const bucket = stack.names.inputsBucket;
  const put = async (key: string, body: string | Iterable<string>) => {
    const chunks = typeof body === 'string' ? [body] : body;
    await objects.upload({ bucket, key }, Readable.from(chunks), 'application/x-ndjson');
    return `s3://${bucket}/${key}`;
  };
  const log = (message: string) =>
    console.error(`[${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(4)} s] ${message}`);

  try {
    const host = await hostOf();
    log(`${mode} bench on ${host.cpu} (${host.vcpus} vCPUs${host.gpu ? `, ${host.gpu}` : ''})`);
    const crops = await textCrops(96);
    const imageLines = (count: number) =>
      toJsonLines(
        Array.from({ length: count }, (_, i) => ({
          id: `crop-${i}`,
          image: (crops[i % crops.length] as { png: Buffer }).png.toString('base64'),
        })),
      );
    const customerLines = (count: number) =>
      toJsonLines(demoCustomers(count).map(({ customer_id, ...rest }) => ({ id: customer_id, ...rest })));
    /** Millions of customers, made 50,000 at a time: one string that size would pass V8's limit. */
    function* manyCustomerLines(count: number) {
      for (let done = 0; done < count; done += 50_000) {
        yield customerLines(Math.min(50_000, count - done));
      }
    }

    // --- CNN models: the limit, the pipeline, the naive worker ------------------------------------
    const cnn = [];
    const chart: ChartPoint[] = [];
    for (const [model, sizes, naiveCount] of [
      ['text-orientation', plan.orientation, plan.naiveRecords.orientation],
      ['text-recognition', plan.recognition, plan.naiveRecords.recognition],
    ] as const) {
      const inputUri = await put(`bench/${model}.jsonl`, imageLines(sizes.records));
      const naiveUri = await put(`bench/${model}-naive.jsonl`, imageLines(naiveCount));
      log(
        `${model}: ONNX Runtime limit over batch sizes ${sizes.batchSizes.join(', ')} × threads ${threadCounts.join(', ')}, and ${host.vcpus} single-threaded sessions side by side`,
      );
      const grid = { model, inputUri, batchSizes: sizes.batchSizes, secondsPerPoint: plan.secondsPerPoint };
      const oneSession = await measureLimit(stack, 1, { ...grid, threads: threadCounts });
      const lanes =
        host.vcpus > 1 ? await measureLimit(stack, host.vcpus, { ...grid, threads: [1] }) : undefined;
      const limit = { ...oneSession, points: [...oneSession.points, ...(lanes?.points ?? [])] };
      const top = best(limit.points);
      // The pipeline at the limit's best batch size and at a few others, for the chart and to
      // find its own best batch size.
      const pipelineBySize: { batchSize: number; recordsPerSecond: number }[] = [];
      for (const batchSize of [...new Set([top.batchSize, ...sizes.pipelineBatchSizes])]) {
        log(`${model}: pipeline, ${sizes.records} records at batch size ${batchSize}`);
        const run = await runJob(stack, shardReports, model, inputUri, { maxBatchSize: batchSize });
        pipelineBySize.push({ batchSize, recordsPerSecond: run.recordsPerSecond });
      }
      const pipelineBatchSize = pipelineBySize.reduce((a, b) =>
        b.recordsPerSecond > a.recordsPerSecond ? b : a,
      ).batchSize;
      // The ratio: each round measures the limit (best configuration) and then the pipeline (its
      // best batch size) within seconds of each other, so that both see the same host.
      const rounds = [];
      for (let index = 1; index <= plan.rounds; index++) {
        log(
          `${model}: round ${index}: limit at ${describeLimit(top)}, then the pipeline at batch ${pipelineBatchSize}`,
        );
        const paired = await measureLimit(stack, top.sessions, {
          ...grid,
          threads: [top.threads],
          batchSizes: [top.batchSize],
        });
        const run = await runJob(stack, shardReports, model, inputUri, { maxBatchSize: pipelineBatchSize });
        const limitRate = paired.points[0]?.recordsPerSecond ?? NaN;
        // The most a pipeline can do on this host when turning records into tensors takes the
        // same cores as inference (CPU provider): each record costs its inference plus its
        // encoding spread over every vCPU. Under CUDA, encoding runs beside the GPU: the slower.
        const encodeOnAllCores = paired.encodeRecordsPerSecond * host.vcpus;
        const ceiling =
          limit.provider === 'cuda'
            ? Math.min(limitRate, encodeOnAllCores)
            : 1 / (1 / limitRate + 1 / encodeOnAllCores);
        rounds.push({
          limitRecordsPerSecond: round(limitRate),
          encodeRecordsPerSecondOneThread: round(paired.encodeRecordsPerSecond),
          ceilingWithEncoding: round(ceiling),
          pipelineRecordsPerSecond: run.recordsPerSecond,
          pipelineSeconds: run.seconds,
          jobSeconds: round(run.jobSeconds, 2),
          pipelineToLimit: round(run.recordsPerSecond / limitRate, 3),
          pipelineToCeiling: round(run.recordsPerSecond / ceiling, 3),
        });
      }
      const median = [...rounds].sort((a, b) => a.pipelineToLimit - b.pipelineToLimit)[
        Math.floor(rounds.length / 2)
      ];
      if (!median) throw new Error('no round');
      log(`${model}: naive worker, ${naiveCount} records one at a time`);
      const naive = await probe<{ recordsPerSecond: number; records: number }>(
        'naive',
        {
          model,
          inputUri: naiveUri,
          outputUri: `s3://${stack.names.outputsBucket}/bench/${model}-naive.out`,
          provider,
        },
        stack,
      );
      if (model === 'text-orientation') {
        for (const point of limit.points) {
          chart.push({
            series: `ONNX Runtime alone, ${point.sessions > 1 ? `${point.sessions} sessions × 1 thread` : `${point.threads} thread${point.threads > 1 ? 's' : ''}`}`,
            batchSize: point.batchSize,
            recordsPerSecond: round(point.recordsPerSecond),
          });
        }
        for (const point of pipelineBySize) {
          chart.push({ series: 'Longtail worker, S3 to S3', ...point });
        }
      }
      cnn.push({
        model,
        provider: limit.provider,
        records: sizes.records,
        limit: {
          sessions: top.sessions,
          threads: top.threads,
          batchSize: top.batchSize,
          recordsPerSecond: median.limitRecordsPerSecond,
        },
        limitPoints: limit.points.map((p) => ({ ...p, recordsPerSecond: round(p.recordsPerSecond) })),
        pipeline: {
          batchSize: pipelineBatchSize,
          recordsPerSecond: median.pipelineRecordsPerSecond,
          bySize: pipelineBySize.sort((a, b) => a.batchSize - b.batchSize),
        },
        encodeRecordsPerSecondOneThread: median.encodeRecordsPerSecondOneThread,
        ceilingWithEncoding: median.ceilingWithEncoding,
        pipelineToLimit: median.pipelineToLimit,
        pipelineToCeiling: median.pipelineToCeiling,
        rounds,
        naive: { records: naive.records, recordsPerSecond: round(naive.recordsPerSecond) },
        pipelineOverNaive: round(median.pipelineRecordsPerSecond / naive.recordsPerSecond, 2),
      });
    }

    // --- Tabular model: the I/O limit, and memory on a 10× larger input ---------------------------
    const tabularUri = await put('bench/churn.jsonl', customerLines(plan.tabular.records));
    log(`churn-risk: raw read + parse + serialize of ${plan.tabular.records} records`);
    const rawIo = await probe<{ recordsPerSecond: number }>(
      'raw-io',
      { inputUri: tabularUri, outputUri: `s3://${stack.names.outputsBucket}/bench/churn-raw.out` },
      stack,
    );
    log(`churn-risk: pipeline over the same ${plan.tabular.records} records`);
    const tabular = await runJob(stack, shardReports, 'churn-risk', tabularUri, { maxBatchSize: 1024 });
    // Memory: that run's peak against one on 10× the records. The full run's size is past the
    // worker's warm-up: until a few hundred thousand records the heap and the upload's buffers are
    // still growing to the size they keep.
    const largeUri = await put('bench/churn-large.jsonl', manyCustomerLines(plan.tabular.records * 10));
    log(`churn-risk: peak RSS on ${plan.tabular.records} and ${plan.tabular.records * 10} records`);
    const small = tabular;
    const large = await runJob(stack, shardReports, 'churn-risk', largeUri, { maxBatchSize: 1024 });

    // --- End to end at npm start's defaults (before the API load, whose hundreds of jobs the
    // first stack's workers are still running for a while after it) ---------------------------
    const orientation = cnn.find((entry) => entry.model === 'text-orientation');
    if (!orientation) throw new Error('no text-orientation measurement');
    const csvColumns = Object.keys(demoCustomers(1)[0] ?? {});
    /** Customers as one CSV, made 50,000 rows at a time. */
    function* customerCsv(count: number) {
      yield `${csvColumns.join(',')}\n`;
      for (let done = 0; done < count; done += 50_000) {
        yield demoCustomers(Math.min(50_000, count - done), done + 1)
          .map((customer) => csvColumns.map((column) => customer[column as keyof typeof customer]).join(','))
          .join('\n')
          .concat('\n');
      }
    }
    const atDefaults = await measureAtDefaults(
      {
        crops: { records: plan.defaults.crops, lines: () => [imageLines(plan.defaults.crops)] },
        tabular: { records: plan.defaults.tabular, csv: () => customerCsv(plan.defaults.tabular) },
        limit: orientation.limit,
        secondsPerPoint: plan.secondsPerPoint * 4,
        rounds: plan.defaults.rounds,
      },
      log,
    );
    const objectRecords = await measureObjects(plan.objects, log);

    // --- API -------------------------------------------------------------------------------------
    const oneRecord = { model: 'churn-risk', input: { records: [demoCustomers(1)[0]] } };
    log(`API: submit → completed of a one-record job, ${plan.submitToCompleted} times`);
    const completions: number[] = [];
    for (let i = 0; i < plan.submitToCompleted; i++) {
      const { seconds, status } = await measureSubmitToCompleted({
        apiUrl: stack.apiUrl,
        apiKey,
        body: oneRecord,
      });
      if (status !== 'completed') throw new Error(`A one-record job ended ${status}`);
      completions.push(seconds);
    }
    completions.sort((a, b) => a - b);
    log(`API: POST /jobs from ${plan.load.connections} connections for ${plan.load.seconds} s`);
    const load: SubmitLoad = await measureSubmitLoad({
      apiUrl: stack.apiUrl,
      apiKey,
      body: oneRecord,
      ...plan.load,
    });

    const report = {
      generatedAt: new Date().toISOString(),
      mode,
      host: { ...host, provider: cnn[0]?.provider },
      cnn,
      io: {
        model: 'churn-risk',
        records: plan.tabular.records,
        pipelineRecordsPerSecond: tabular.recordsPerSecond,
        rawReadParseSerializeRecordsPerSecond: round(rawIo.recordsPerSecond),
        pipelineToRaw: round(tabular.recordsPerSecond / rawIo.recordsPerSecond, 3),
      },
      atDefaults,
      objectRecords,
      memory: {
        model: 'churn-risk',
        records: [plan.tabular.records, plan.tabular.records * 10],
        peakRssMiB: [small.peakRssMiB, large.peakRssMiB],
        largeToSmall: round(large.peakRssMiB / small.peakRssMiB, 3),
      },
      api: {
        submitToCompletedSeconds: {
          runs: completions.map((s) => round(s, 3)),
          median: round(completions[Math.floor(completions.length / 2)] ?? NaN, 3),
        },
        submitLoad: load,
      },
      benchSeconds: round((performance.now() - benchStarted) / 1000, 1),
    };

    mkdirSync(reportsDir, { recursive: true });
    writeFileSync(join(reportsDir, `${mode}.json`), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(
      join(reportsDir, `throughput-${mode}.svg`),
      await throughputChart(
        `text-orientation on ${host.gpu ?? `${host.vcpus} vCPUs`} (${cnn[0]?.provider})`,
        chart,
      ),
    );
    printTable(report);
    console.log(`\nReport: bench/reports/${mode}.json, chart: bench/reports/throughput-${mode}.svg`);
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

const printTable = (report: {
  host: { cpu?: string; vcpus: number; gpu: string | null; provider?: string };
  cnn: {
    model: string;
    limit: LimitPoint;
    pipeline: { recordsPerSecond: number; batchSize: number };
    pipelineToLimit: number;
    encodeRecordsPerSecondOneThread: number;
    ceilingWithEncoding: number;
    pipelineToCeiling: number;
    naive: { recordsPerSecond: number };
    pipelineOverNaive: number;
  }[];
  io: {
    pipelineRecordsPerSecond: number;
    rawReadParseSerializeRecordsPerSecond: number;
    pipelineToRaw: number;
  };
  memory: { records: number[]; peakRssMiB: number[]; largeToSmall: number };
  atDefaults: DefaultsReport;
  objectRecords: ObjectsReport;
  api: { submitToCompletedSeconds: { median: number }; submitLoad: SubmitLoad };
  benchSeconds: number;
}) => {
  const rows: [string, string, string][] = [['measure', 'paired figures', 'ratio']];
  for (const model of report.cnn) {
    rows.push([
      `${model.model}: pipeline / ONNX Runtime limit`,
      `${model.pipeline.recordsPerSecond} (batch ${model.pipeline.batchSize}) vs ${model.limit.recordsPerSecond} rec/s (${describeLimit(model.limit)})`,
      model.pipelineToLimit.toFixed(2),
    ]);
    rows.push([
      `${model.model}: pipeline / ceiling with encoding`,
      `${model.pipeline.recordsPerSecond} vs ${model.ceilingWithEncoding} rec/s (encoding alone: ${model.encodeRecordsPerSecondOneThread} rec/s a thread)`,
      model.pipelineToCeiling.toFixed(2),
    ]);
    rows.push([
      `${model.model}: pipeline / naive worker`,
      `${model.pipeline.recordsPerSecond} vs ${model.naive.recordsPerSecond} rec/s`,
      `${model.pipelineOverNaive.toFixed(1)}×`,
    ]);
  }
  rows.push([
    'churn-risk: pipeline / raw read+parse+serialize',
    `${report.io.pipelineRecordsPerSecond} vs ${report.io.rawReadParseSerializeRecordsPerSecond} rec/s`,
    report.io.pipelineToRaw.toFixed(2),
  ]);
  for (const [entry, raw] of [
    [report.atDefaults.imageModel, 'ONNX Runtime limit'],
    [report.atDefaults.tabularModel, 'raw CSV read+parse+serialize'],
  ] as const) {
    const { median } = entry;
    rows.push([
      `${entry.model}, npm start defaults: submit → completed / ${raw}`,
      `${median.recordsPerSecond} vs ${median.rawRecordsPerSecond} rec/s (${entry.records} records in ${median.seconds} s, ${median.shards} shards, slowest/fastest shard ${median.shardSpread})`,
      median.ratio.toFixed(2),
    ]);
  }
  const objectRecords = report.objectRecords;
  rows.push([
    `text-orientation, npm start defaults: ${objectRecords.objects} image objects / the same as base64 JSON Lines`,
    `${objectRecords.objectsOverLines.objectsPerSecond} vs ${objectRecords.objectsOverLines.linesPerSecond} rec/s, submit → completed`,
    objectRecords.objectsOverLines.ratio.toFixed(2),
  ]);
  rows.push([
    'text-orientation: worker peak RSS, crops with 40 MP scans / crops alone',
    `${objectRecords.memory.withScansPeakMiB} vs ${objectRecords.memory.cropsOnlyPeakMiB} MiB`,
    objectRecords.memory.ratio.toFixed(2),
  ]);
  rows.push([
    'API: submit → completed, one image by s3Uri',
    `median ${objectRecords.singleImageSeconds.median} s`,
    '',
  ]);
  rows.push([
    'churn-risk: peak RSS, 10× input / 1×',
    `${report.memory.peakRssMiB[1]} vs ${report.memory.peakRssMiB[0]} MiB (${report.memory.records[1]} vs ${report.memory.records[0]} records)`,
    report.memory.largeToSmall.toFixed(2),
  ]);
  const load = report.api.submitLoad;
  rows.push([
    'API: POST /jobs under load',
    `${load.requestsPerSecond} req/s, p50 ${load.latencyMs.p50} ms, p99 ${load.latencyMs.p99} ms (${load.connections} connections)`,
    `${load.accepted}/${load.requests} accepted`,
  ]);
  rows.push([
    'API: submit → completed, one record',
    `median ${report.api.submitToCompletedSeconds.median} s`,
    '',
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(
    `\n${report.host.cpu}, ${report.host.vcpus} vCPUs${report.host.gpu ? `, ${report.host.gpu}` : ''}; provider ${report.host.provider}; bench ${report.benchSeconds} s\n`,
  );
  console.log(line(rows[0] as string[]));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows.slice(1)) console.log(line(row));
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
