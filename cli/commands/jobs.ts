/** `longtail jobs list|get|watch|cancel|retry-failed|results|failures`. */
import { Option } from 'commander';
import type { Command } from 'commander';
import type { ListJobsQuery } from '../client';
import { contextOf } from '../context';
import type { Context } from '../context';
import { CliError } from '../errors';
import { jobHead, jobRows, note, printJob, printJson, printTable } from '../output';
import { copyObject, objectsOf } from '../storage';
import { downloadResults } from '../watch';
import { follow, withFollowOptions } from './follow';
import type { FollowFlags } from './follow';

const count = (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new CliError(`Not a positive whole number: ${value}`);
  return parsed;
};

/** Prints a job's result or failure files: whole, their first lines, or saved to a path. */
const printFiles = async (
  context: Context,
  jobId: string,
  which: 'outputUri' | 'failureUri',
  flags: { head?: number; out?: string },
) => {
  const job = await context.client().getJob(jobId);
  if (which === 'outputUri' && flags.out) {
    const saved = await downloadResults(context.s3(), job, flags.out);
    if (context.json) printJson({ jobId, saved });
    else for (const path of saved) note(`Saved: ${path}`);
    return;
  }
  const uris = await objectsOf(context.s3(), job[which], which === 'outputUri' ? '.out' : '.out.failed');
  let found = false;
  for (const uri of uris) found = (await copyObject(context.s3(), uri, process.stdout, flags.head)) || found;
  if (!found)
    throw new CliError(
      which === 'failureUri'
        ? `Job ${jobId} has no failed records (${job.counts.failed} failed, status ${job.status}).`
        : `Job ${jobId} has no results yet (status ${job.status}).`,
    );
};

export const registerJobs = (program: Command) => {
  const jobs = program.command('jobs').description('list, follow, cancel and retry jobs; read their results');

  jobs
    .command('list')
    .description('your jobs, newest first')
    .addOption(
      new Option('--status <status>').choices(['pending', 'running', 'completed', 'failed', 'cancelled']),
    )
    .addOption(new Option('--limit <n>', 'jobs per page (1-100)').argParser(count).default(20))
    .option('--cursor <cursor>', 'the next page, from a previous answer')
    .action(async (flags: ListJobsQuery, command: Command) => {
      const context = contextOf(command);
      const page = await context.client().listJobs(flags);
      if (context.json) return printJson(page);
      printTable(jobHead, jobRows(page.jobs));
      if (page.nextCursor) note(`More: longtail jobs list --cursor ${page.nextCursor}`);
    });

  jobs
    .command('get')
    .description("one job's status, counts and locations")
    .argument('<jobId>')
    .action(async (jobId: string, _flags: unknown, command: Command) => {
      const context = contextOf(command);
      const job = await context.client().getJob(jobId);
      if (context.json) printJson(job);
      else printJob(job);
    });

  withFollowOptions(
    jobs.command('watch').description('follow a job to its end, with live progress').argument('<jobId>'),
  ).action((jobId: string, flags: FollowFlags, command: Command) => follow(contextOf(command), jobId, flags));

  jobs
    .command('cancel')
    .description('stop a pending or running job (finished shards keep their outputs)')
    .argument('<jobId>')
    .action(async (jobId: string, _flags: unknown, command: Command) => {
      const context = contextOf(command);
      const job = await context.client().cancelJob(jobId);
      if (context.json) printJson(job);
      else process.stdout.write(`Job ${job.jobId} ${job.status}.\n`);
    });

  withFollowOptions(
    jobs
      .command('resume')
      .description('resume a job that failed for a curable reason, from where it stopped')
      .argument('<jobId>')
      .option('-w, --wait', 'follow the job to its end'),
  ).action(async (jobId: string, flags: FollowFlags & { wait?: boolean }, command: Command) => {
    const context = contextOf(command);
    const job = await context.client().resumeJob(jobId);
    if (!flags.wait && !flags.out) {
      if (context.json) printJson(job);
      else process.stdout.write(`Job ${job.jobId} ${job.status}.\n`);
      return;
    }
    await follow(context, job.jobId, flags);
  });

  withFollowOptions(
    jobs
      .command('retry-failed')
      .description("run a finished job's failed records again, as a new job")
      .argument('<jobId>')
      .option('-w, --wait', 'follow the new job to its end'),
  ).action(async (jobId: string, flags: FollowFlags & { wait?: boolean }, command: Command) => {
    const context = contextOf(command);
    const retry = await context.client().retryFailed(jobId);
    if (!flags.wait && !flags.out) {
      if (context.json) printJson(retry);
      else process.stdout.write(`${retry.jobId}\n`);
      return;
    }
    if (!context.json) process.stdout.write(`${retry.jobId}\n`);
    await follow(context, retry.jobId, flags);
  });

  const fileCommand = (name: string, description: string) =>
    jobs
      .command(name)
      .description(description)
      .argument('<jobId>')
      .addOption(new Option('--head <n>', 'only the first n lines of each file').argParser(count));
  fileCommand('results', "print a job's results (all, or the first --head lines), or save them")
    .option('--out <path>', 'save to this file (a folder for a multi-file job)')
    .action((jobId: string, flags: { head?: number; out?: string }, command: Command) =>
      printFiles(contextOf(command), jobId, 'outputUri', flags),
    );
  fileCommand('failures', "print a job's failed records, each with its reason").action(
    (jobId: string, flags: { head?: number }, command: Command) =>
      printFiles(contextOf(command), jobId, 'failureUri', flags),
  );
};
