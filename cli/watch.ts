/**
 * Following a job to its end: polls its status, draws progress (a bar on a terminal, a line per
 * change otherwise, so logs and CI read well), and ends with a summary, the results downloaded
 * and an exit code a script can rely on. Ctrl-C stops watching, never the job.
 */
import { SingleBar } from 'cli-progress';
import type { S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import type { Job, LongtailClient } from './client';
import { CliError, exitCodes } from './errors';
import { formatDuration, note, paintStatus, printJson } from './output';
import { copyObject, downloadObject, objectsOf, parseS3Uri } from './storage';

const ended = (status: string) => ['completed', 'failed', 'cancelled'].includes(status);

interface Sample {
  at: number;
  done: number;
}

/** Records per second over the last few polls: recent enough to follow a job speeding up. */
export class RateMeter {
  private samples: Sample[] = [];
  add(done: number, at = Date.now()) {
    this.samples.push({ at, done });
    while (this.samples.length > 2 && at - this.samples[0]!.at > 10_000) this.samples.shift();
  }
  get perSecond() {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at === first.at) return 0;
    return ((last.done - first.done) * 1000) / (last.at - first.at);
  }
}

export interface ProgressFigures {
  status: string;
  done: number;
  total: number;
  failed: number;
  shards: string;
  rate: number;
  eta: string;
}

export const figuresOf = (job: Job, rate: number): ProgressFigures => {
  const done = job.counts.succeeded + job.counts.failed;
  const remaining = job.counts.total - done;
  return {
    status: job.status,
    done,
    total: job.counts.total,
    failed: job.counts.failed,
    shards: job.shards ? `${job.shards.succeeded}/${job.shards.total}` : '-',
    rate: Math.round(rate),
    eta: ended(job.status) ? '0s' : rate > 0 && job.counts.total > 0 ? formatDuration(remaining / rate) : '?',
  };
};

export const progressLine = (f: ProgressFigures) =>
  `${f.status.padEnd(9)}  ${f.done}/${f.total || '?'} records  ${f.failed} failed  shards ${f.shards}  ${f.rate} rec/s  ETA ${f.eta}`;

interface ProgressView {
  show(figures: ProgressFigures): void;
  stop(): void;
}

/** A redrawn bar on a terminal. */
const barView = (): ProgressView => {
  const bar = new SingleBar({
    stream: process.stderr,
    format:
      '{status} {bar} {value}/{total} records | {failed} failed | shards {shards} | {rate} rec/s | ETA {etaText}',
    hideCursor: true,
    clearOnComplete: false,
  });
  let started = false;
  return {
    show: (f) => {
      const payload = {
        status: paintStatus(f.status.padEnd(9)),
        failed: f.failed,
        shards: f.shards,
        rate: f.rate,
        etaText: f.eta,
      };
      if (!started) bar.start(Math.max(f.total, 1), f.done, payload);
      else {
        bar.setTotal(Math.max(f.total, 1));
        bar.update(f.done, payload);
      }
      started = true;
    },
    stop: () => bar.stop(),
  };
};

/** A line whenever something but the rate moved: a log or a CI page stays readable. */
const lineView = (): ProgressView => {
  let last = '';
  return {
    show: (f) => {
      const key = `${f.status} ${f.done} ${f.total} ${f.failed} ${f.shards}`;
      if (key !== last) note(progressLine(f));
      last = key;
    },
    stop: () => undefined,
  };
};

export interface WatchOptions {
  intervalMs: number;
  /** Give up watching (the job keeps running) after this long. */
  timeoutMs?: number;
  quiet: boolean;
}

export const watchJob = async (
  client: LongtailClient,
  jobId: string,
  options: WatchOptions,
): Promise<Job> => {
  const view = options.quiet ? undefined : process.stderr.isTTY ? barView() : lineView();
  const meter = new RateMeter();
  const stopWatching = () => {
    view?.stop();
    note(`\nStopped watching. Job ${jobId} keeps running; watch it again with: longtail jobs watch ${jobId}`);
    process.exit(exitCodes.interrupted);
  };
  // `on`, not `once`: a second Ctrl-C while the message is written must not kill it half-way.
  process.on('SIGINT', stopWatching);
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  try {
    for (;;) {
      const job = await client.getJob(jobId);
      meter.add(job.counts.succeeded + job.counts.failed);
      view?.show(figuresOf(job, meter.perSecond));
      if (ended(job.status)) return job;
      if (Date.now() > deadline)
        throw new CliError(
          `Job ${jobId} is still ${job.status} after ${formatDuration(options.timeoutMs! / 1000)}; it keeps running (longtail jobs watch ${jobId}).`,
          exitCodes.timedOut,
        );
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
  } finally {
    view?.stop();
    process.removeListener('SIGINT', stopWatching);
  }
};

/**
 * Saves a job's results: its one output to `out`, or, for a job over many files, each output
 * into the folder `out` under its own name.
 */
export const downloadResults = async (s3: S3Client, job: Job, out: string): Promise<string[]> => {
  const uris = await objectsOf(s3, job.outputUri, '.out');
  const prefix = parseS3Uri(job.outputUri).key;
  const saved: string[] = [];
  for (const uri of uris) {
    const path = prefix.endsWith('/') ? join(out, parseS3Uri(uri).key.slice(prefix.length)) : out;
    if (await downloadObject(s3, uri, path)) saved.push(path);
  }
  return saved;
};

/** The first lines of a job's failure file(s), for a user who watched it fail. */
const showFailures = async (s3: S3Client, job: Job, lines: number) => {
  const [first] = await objectsOf(s3, job.failureUri, '.out.failed');
  if (!first) return;
  note(`First failed records (${first}):`);
  await copyObject(s3, first, process.stderr, lines);
};

export interface EndOptions {
  s3?: S3Client;
  json: boolean;
  out?: string;
  startedAt: number;
}

/** Tells how the job ended, downloads its results when asked, and sets the exit code. */
export const reportEnd = async (job: Job, options: EndOptions) => {
  const saved =
    job.status === 'completed' && options.out && options.s3
      ? await downloadResults(options.s3, job, options.out)
      : [];
  if (options.json) printJson(saved.length ? { ...job, saved } : job);
  else {
    const took = formatDuration((Date.now() - options.startedAt) / 1000);
    const { succeeded, failed, total } = job.counts;
    process.stdout.write(
      `Job ${job.jobId} ${paintStatus(job.status)} (watched ${took}): ${succeeded} of ${total} records succeeded, ${failed} failed.\n`,
    );
    if (job.status === 'completed') process.stdout.write(`Output: ${job.outputUri}\n`);
    for (const path of saved) process.stdout.write(`Saved: ${path}\n`);
    if (job.error) note(`Error: ${job.error.code}: ${job.error.message}`);
    if (failed > 0 && job.status === 'completed')
      note(`See the failed records with: longtail jobs failures ${job.jobId}`);
  }
  if (job.status !== 'completed' && job.counts.failed > 0 && options.s3)
    await showFailures(options.s3, job, 5);
  if (job.status === 'failed') process.exitCode = exitCodes.jobFailed;
  if (job.status === 'cancelled') process.exitCode = exitCodes.jobCancelled;
};
