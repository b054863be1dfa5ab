/**
 * How the CLI writes: results on stdout (JSON with `--json`, tables otherwise), progress and
 * messages on stderr so that a script reading stdout gets only what it asked for. Colours only
 * when stderr/stdout is a terminal (picocolors also honours NO_COLOR and FORCE_COLOR).
 */
import Table from 'cli-table3';
import colors from 'picocolors';
import type { Job } from './client';
import { describeCost } from '../lib/domain/cost';
import type { JobCostView } from '../lib/domain/cost';

export const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

export const note = (message: string) => process.stderr.write(`${message}\n`);

export const printTable = (head: string[], rows: (string | number)[][]) => {
  const table = new Table({
    head: head.map((cell) => colors.bold(cell)),
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  table.push(...rows.map((row) => row.map(String)));
  process.stdout.write(`${table.toString()}\n`);
};

const statusColour: Record<string, (text: string) => string> = {
  completed: colors.green,
  failed: colors.red,
  cancelled: colors.yellow,
  running: colors.cyan,
};
export const paintStatus = (status: string) => (statusColour[status] ?? ((text: string) => text))(status);

export const formatDuration = (seconds: number) => {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
};

export const jobRows = (jobs: Job[]) =>
  jobs.map((job) => [
    job.jobId,
    paintStatus(job.status),
    `${job.model}:${job.modelVersion}`,
    `${job.counts.succeeded + job.counts.failed}/${job.counts.total}`,
    job.counts.failed,
    job.createdAt,
  ]);
export const jobHead = ['JOB', 'STATUS', 'MODEL', 'RECORDS', 'FAILED', 'CREATED'];

/** One job, as a reader wants it: what, where, how far, and why it failed. */
export const printJob = (job: Job & { cost?: JobCostView }) => {
  const lines: [string, unknown][] = [
    ['job', job.jobId],
    ['status', paintStatus(job.status)],
    ['model', `${job.model}:${job.modelVersion}`],
    ['input', job.input.type === 's3' ? job.input.s3Uri : `${job.input.recordCount} inline records`],
    ['records', `${job.counts.succeeded} succeeded, ${job.counts.failed} failed, ${job.counts.total} in all`],
    [
      'shards',
      job.shards ? `${job.shards.succeeded}/${job.shards.total} done, ${job.shards.running} running` : null,
    ],
    ['output', job.outputUri],
    ['failures', job.counts.failed > 0 ? job.failureUri : null],
    ['error', job.error ? `${job.error.code}: ${job.error.message}` : null],
    ['retry of', job.parentJobId],
    ['created', job.createdAt],
    ['completed', job.completedAt],
    ['cost', describeCost(job.cost)],
    ['console', job.consoleUrl],
  ];
  for (const [label, value] of lines)
    if (value !== null && value !== undefined)
      process.stdout.write(`${colors.dim(label.padEnd(10))}${String(value)}\n`);
};
