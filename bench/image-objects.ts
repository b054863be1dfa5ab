import './quiet';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { developmentApiKeys } from '../lib/auth/api-keys';
import { S3ObjectStore } from '../lib/aws/s3';
import { toJsonLines } from '../local/demo-data';
import { startLocalStack } from '../local/stack';
import { runLimited } from '../lib/run-limited';
import { submitJob, waitForEnd } from './api-load';
import { textCrops } from './text-crops';

/**
 * Objects as records against the same images as lines, at `npm start`'s defaults, end to end
 * (POST /jobs → completed): a prefix of `objects` crops, one object each, against one JSON Lines
 * file of the same crops in base64, the two jobs alternating round by round; one image by URI,
 * submit → completed; and the workers' peak memory on a prefix that mixes crops with 40-megapixel
 * scans against one of crops alone.
 */
export interface ObjectsPlan {
  objects: number;
  rounds: number;
  singleImageRuns: number;
  /** Crops beside the scans in the memory comparison, and how many scans. */
  memory: { crops: number; scans: number };
}

export interface ObjectsReport {
  objects: number;
  rounds: { objectsSeconds: number; linesSeconds: number; ratio: number }[];
  /** Records per second, prefix of objects over the JSON Lines file: median round. */
  objectsOverLines: { objectsPerSecond: number; linesPerSecond: number; ratio: number };
  singleImageSeconds: { runs: number[]; median: number };
  memory: { cropsOnlyPeakMiB: number; withScansPeakMiB: number; scanMegapixels: number; ratio: number };
}

const apiKey = developmentApiKeys.split(':')[1] ?? '';
const round = (value: number, digits = 0) => Number(value.toFixed(digits));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/** A page of text, 8,000 × 5,000 (40 megapixels), as a scanner's JPEG or PNG. */
const scanOf = async (format: 'jpeg' | 'png', seed: number) => {
  const width = 8000;
  const height = 5000;
  const lines = Array.from(
    { length: 40 },
    (_, i) =>
      `<text x="200" y="${200 + i * 115}" font-family="DejaVu Sans" font-size="80">Page ${seed}, line ${i + 1}: Longtail batch inference</text>`,
  ).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="white"/>${lines}</svg>`;
  const image = sharp(Buffer.from(svg), { limitInputPixels: false }).flatten({ background: 'white' });
  return format === 'jpeg' ? image.jpeg({ quality: 85 }).toBuffer() : image.png().toBuffer();
};

export const measureObjects = async (
  plan: ObjectsPlan,
  log: (message: string) => void,
): Promise<ObjectsReport> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'longtail-bench-objects-'));
  const peakRss = new Map<string, number>();
  const stack = await startLocalStack({
    apiPort: 0,
    awsPort: 0,
    dataDir,
    apiKeys: developmentApiKeys,
    // What `npm start` passes (local/start.ts).
    batchConcurrency: 2,
    workerLogLevel: 'INFO',
    onWorkerLog: (_jobName, line) => {
      try {
        const entry = JSON.parse(line) as { message?: string; jobId?: string; peakRssMiB?: number };
        if (entry.message !== 'Shard done' || !entry.jobId || entry.peakRssMiB === undefined) return;
        peakRss.set(entry.jobId, Math.max(peakRss.get(entry.jobId) ?? 0, entry.peakRssMiB));
      } catch {
        // not a log line of ours
      }
    },
  });
  const api = { apiUrl: stack.apiUrl, apiKey };
  const objects = new S3ObjectStore();
  const bucket = stack.names.inputsBucket;
  const put = (key: string, body: Buffer) =>
    objects.upload({ bucket, key }, Readable.from([body]), key.endsWith('.jpg') ? 'image/jpeg' : 'image/png');
  const putAll = (entries: [string, Buffer][]) =>
    runLimited(
      entries.map(
        ([key, body]) =>
          () =>
            put(key, body),
      ),
      16,
    );
  const timeJob = async (inputUri: string) => {
    const started = performance.now();
    const jobId = await submitJob(api, { model: 'text-orientation', input: { s3Uri: inputUri } });
    const job = await waitForEnd(api, jobId, 100, 30 * 60_000);
    if (job.status !== 'completed')
      throw new Error(`Bench job ${jobId} ${job.status}: ${JSON.stringify(job.error)}`);
    return { seconds: (performance.now() - started) / 1000, jobId };
  };

  try {
    const crops = await textCrops(96);
    const cropOf = (i: number) => (crops[i % crops.length] as { png: Buffer }).png;
    log(`objects: putting ${plan.objects} crops as objects and as one JSON Lines file`);
    await putAll(
      Array.from({ length: plan.objects }, (_, i) => [
        `bench/objects/crop-${String(i).padStart(6, '0')}.png`,
        cropOf(i),
      ]),
    );
    const lines = toJsonLines(
      Array.from({ length: plan.objects }, (_, i) => ({
        id: `crop-${i}`,
        image: cropOf(i).toString('base64'),
      })),
    );
    await objects.putText({ bucket, key: 'bench/objects-as-lines.jsonl' }, lines, 'application/x-ndjson');

    const rounds: ObjectsReport['rounds'] = [];
    for (let index = 1; index <= plan.rounds; index++) {
      log(`objects, round ${index}: ${plan.objects} crops as lines, then as objects`);
      const asLines = await timeJob(`s3://${bucket}/bench/objects-as-lines.jsonl`);
      const asObjects = await timeJob(`s3://${bucket}/bench/objects/`);
      rounds.push({
        objectsSeconds: round(asObjects.seconds, 2),
        linesSeconds: round(asLines.seconds, 2),
        ratio: round(asLines.seconds / asObjects.seconds, 3),
      });
    }
    const middle = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;

    log(`objects: one image by URI, submit → completed, ${plan.singleImageRuns} times`);
    await put('bench/single/crop.png', cropOf(1));
    const singles: number[] = [];
    for (let i = 0; i < plan.singleImageRuns; i++)
      singles.push(round((await timeJob(`s3://${bucket}/bench/single/crop.png`)).seconds, 2));

    log(
      `objects: peak worker memory, ${plan.memory.crops} crops with and without ${plan.memory.scans} 40 MP scans`,
    );
    const memoryCrops = Array.from({ length: plan.memory.crops }, (_, i): [string, Buffer] => [
      `crop-${String(i).padStart(5, '0')}.png`,
      cropOf(i),
    ]);
    await putAll(memoryCrops.map(([name, body]) => [`bench/memory-crops/${name}`, body]));
    const scans: [string, Buffer][] = [];
    for (let i = 0; i < plan.memory.scans; i++) {
      const format = i % 2 === 0 ? 'jpeg' : 'png';
      scans.push([`scan-${i}.${format === 'jpeg' ? 'jpg' : 'png'}`, await scanOf(format, i + 1)]);
    }
    await putAll([...memoryCrops, ...scans].map(([name, body]) => [`bench/memory-mixed/${name}`, body]));
    const cropsOnly = await timeJob(`s3://${bucket}/bench/memory-crops/`);
    const mixed = await timeJob(`s3://${bucket}/bench/memory-mixed/`);
    const cropsOnlyPeakMiB = peakRss.get(cropsOnly.jobId) ?? NaN;
    const withScansPeakMiB = peakRss.get(mixed.jobId) ?? NaN;

    return {
      objects: plan.objects,
      rounds,
      objectsOverLines: {
        objectsPerSecond: round(plan.objects / middle.objectsSeconds),
        linesPerSecond: round(plan.objects / middle.linesSeconds),
        ratio: middle.ratio,
      },
      singleImageSeconds: { runs: singles, median: median(singles) },
      memory: {
        cropsOnlyPeakMiB,
        withScansPeakMiB,
        scanMegapixels: 40,
        ratio: round(withScansPeakMiB / cropsOnlyPeakMiB, 2),
      },
    };
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

/** `npm run bench:objects [-- --quick]`: the section on its own. */
if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const started = performance.now();
  measureObjects(
    quick
      ? { objects: 500, rounds: 1, singleImageRuns: 3, memory: { crops: 100, scans: 2 } }
      : { objects: 5_000, rounds: 3, singleImageRuns: 5, memory: { crops: 400, scans: 4 } },
    (message) =>
      console.error(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`),
  )
    .then((report) => console.log(JSON.stringify(report, null, 2)))
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
