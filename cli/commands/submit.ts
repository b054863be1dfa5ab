/**
 * `longtail submit <file | folder | s3://…> --model <name[:version|@alias]>`: a local file or
 * folder goes up to the inputs bucket first (multipart, with progress), then the job is
 * submitted by its S3 URI. Local inputs are always uploaded, never sent inline: the file keeps
 * its format (a CSV its header, for joins and filters) and its name in the output's name, and
 * one path serves a 1 KB file and a 10 GB one alike.
 */
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { LongtailClient } from '../client';
import { contextOf } from '../context';
import type { Context } from '../context';
import { CliError } from '../errors';
import { note, printJson } from '../output';
import { filesUnder, uploadFiles } from '../storage';
import { follow, withFollowOptions } from './follow';
import type { FollowFlags } from './follow';

interface SubmitFlags extends FollowFlags {
  model: string;
  wait?: boolean;
  options?: Record<string, unknown>;
  idempotencyKey?: string;
  webhookUrl?: string;
}

const parseOptions = (value: string) => {
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // Answered below, with what was expected.
  }
  throw new CliError(`--options takes a JSON object, e.g. '{"joinSource":"Input"}'; got ${value}`);
};

/** Fails before any upload when the model does not exist, naming the ones that do. */
const checkModel = async (client: LongtailClient, model: string) => {
  const name = model.split(/[:@]/)[0] ?? model;
  const { models } = await client.listModels();
  if (!models.some((m) => m.name === name))
    throw new CliError(
      `No model "${name}". Available: ${models.map((m) => m.name).join(', ') || 'none'} (longtail models list).`,
    );
};

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Uploads a local file or folder under a fresh prefix; answers the S3 URI to submit. */
const uploadInput = async (context: Context, path: string, isFolder: boolean) => {
  const settings = context.settings();
  if (!settings.inputsBucket)
    throw new CliError(
      'Uploading a local file needs the inputs bucket: set LONGTAIL_INPUTS_BUCKET (the stack output InputsBucketName) or pass --inputs-bucket.',
    );
  const folder = isFolder ? path : dirname(path);
  const files = isFolder ? await filesUnder(path) : [basename(path)];
  if (files.length === 0) throw new CliError(`${path} holds no files to submit.`);
  const prefix = `${settings.inputPrefix}uploads/${randomUUID()}/`;
  const target = `s3://${settings.inputsBucket}/${prefix}`;
  const bar =
    !context.quiet && process.stderr.isTTY
      ? new SingleBar({
          stream: process.stderr,
          format: 'uploading {bar} {percentage}% {value}/{total} bytes',
          hideCursor: true,
        })
      : undefined;
  let total = 0;
  await uploadFiles(
    context.s3(),
    { bucket: settings.inputsBucket, prefix },
    folder,
    files,
    (loaded, size) => {
      if (total === 0 && size > 0 && !context.quiet && !bar)
        note(`Uploading ${path} (${megabytes(size)}) to ${target}`);
      if (bar && total === 0) bar.start(size, loaded);
      total = size;
      bar?.update(loaded);
    },
  );
  bar?.stop();
  return isFolder ? target : `${target}${files[0]}`;
};

const inputUriOf = async (context: Context, input: string, model: string) => {
  if (input.startsWith('s3://')) return input;
  const found = await stat(input).catch(() => undefined);
  if (!found)
    throw new CliError(`No such file or folder: ${input} (give a local file, a folder, or an s3:// URI).`);
  await checkModel(context.client(), model);
  return uploadInput(context, input, found.isDirectory());
};

export const registerSubmit = (program: Command) =>
  withFollowOptions(
    program
      .command('submit')
      .description('upload a local file or folder (or name an S3 object or prefix) and submit a job over it')
      .argument('<input>', 'a local file, a local folder, s3://bucket/key or s3://bucket/prefix/')
      .requiredOption('-m, --model <model>', 'name, name:version or name@alias')
      .option('-w, --wait', 'follow the job to its end; the exit code says how it ended')
      .option(
        '--options <json>',
        'batch transform options as JSON, e.g. \'{"joinSource":"Input"}\'',
        parseOptions,
      )
      .option(
        '--idempotency-key <key>',
        'the same key answers with the same job (default: a new one per run)',
      )
      .option('--webhook-url <url>', "HTTPS URL to receive the job's end, signed"),
  ).action(async (input: string, flags: SubmitFlags, command: Command) => {
    const context = contextOf(command);
    const s3Uri = await inputUriOf(context, input, flags.model);
    // A fresh key per run: a retried POST whose answer was lost cannot make a second job.
    const submitted = await context.client().submitJob(
      {
        model: flags.model,
        input: { s3Uri },
        ...(flags.options ? { options: flags.options } : {}),
        ...(flags.webhookUrl ? { webhookUrl: flags.webhookUrl } : {}),
      },
      flags.idempotencyKey ?? randomUUID(),
    );
    if (!flags.wait && !flags.out) {
      if (context.json) printJson(submitted);
      else {
        process.stdout.write(`${submitted.jobId}\n`);
        note(`Submitted. Watch it with: longtail jobs watch ${submitted.jobId}`);
      }
      return;
    }
    if (!context.json) process.stdout.write(`${submitted.jobId}\n`);
    await follow(context, submitted.jobId, flags);
  });
