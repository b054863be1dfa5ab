/** The options and the flow shared by every command that can wait for a job: submit, watch, retry-failed. */
import { Option } from 'commander';
import type { Command } from 'commander';
import type { Context } from '../context';
import { CliError } from '../errors';
import { reportEnd, watchJob } from '../watch';

export interface FollowFlags {
  out?: string;
  timeout?: number;
  interval: number;
}

const seconds = (value: string) => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new CliError(`Not a number of seconds: ${value}`);
  return parsed;
};

export const withFollowOptions = (command: Command) =>
  command
    .option(
      '--out <path>',
      'when the job completes, download its results here (a folder for a multi-file job)',
    )
    .addOption(
      new Option(
        '--timeout <seconds>',
        'stop waiting after this long (exit 4); the job keeps running',
      ).argParser(seconds),
    )
    .addOption(
      new Option('--interval <seconds>', 'seconds between status polls').argParser(seconds).default(1),
    );

/** Watches the job to its end, then reports it; the exit code says how it ended. */
export const follow = async (context: Context, jobId: string, flags: FollowFlags) => {
  const startedAt = Date.now();
  const job = await watchJob(context.client(), jobId, {
    intervalMs: flags.interval * 1000,
    timeoutMs: flags.timeout === undefined ? undefined : flags.timeout * 1000,
    quiet: context.quiet,
  });
  await reportEnd(job, { s3: context.s3(), json: context.json, out: flags.out, startedAt });
};
