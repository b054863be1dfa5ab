/**
 * What every command gets: the output mode and, made on first use, the settings, the API client
 * and the S3 client. Lazy, so that `longtail --help` or a usage error needs no configuration.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { LongtailClient } from './client';
import { resolveSettings } from './config';
import type { GlobalFlags, Settings } from './config';
import { createS3 } from './storage';

export interface Context {
  json: boolean;
  quiet: boolean;
  settings(): Settings;
  client(): LongtailClient;
  s3(): S3Client;
}

export const contextOf = (command: Command): Context => {
  const flags = command.optsWithGlobals<GlobalFlags & { json?: boolean; quiet?: boolean }>();
  let settings: Settings | undefined;
  let client: LongtailClient | undefined;
  let s3: S3Client | undefined;
  const context: Context = {
    json: flags.json ?? false,
    quiet: flags.quiet ?? false,
    settings: () => (settings ??= resolveSettings(flags)),
    client: () => (client ??= new LongtailClient(context.settings())),
    s3: () => (s3 ??= createS3(context.settings())),
  };
  return context;
};
