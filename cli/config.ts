/**
 * Where the CLI talks to and with what key: flags first, then the environment, then a profile
 * from the profile file (one per deployment). Read once per run; a missing setting fails with
 * the name of the variable that sets it.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { CliError } from './errors';

export interface GlobalFlags {
  apiUrl?: string;
  apiKey?: string;
  profile?: string;
  inputsBucket?: string;
  inputPrefix?: string;
}

const profileSchema = z.strictObject({
  apiUrl: z.string().url().optional(),
  apiKey: z.string().min(1).optional(),
  inputsBucket: z.string().min(1).optional(),
  inputPrefix: z.string().optional(),
  region: z.string().min(1).optional(),
});
const profileFileSchema = z.strictObject({ profiles: z.record(z.string(), profileSchema) });
export type Profile = z.infer<typeof profileSchema>;

export const profileFilePath = (env: NodeJS.ProcessEnv = process.env) =>
  env.LONGTAIL_CONFIG ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'longtail', 'profiles.json');

/** The named profile (`--profile`, `LONGTAIL_PROFILE`), or `default` when the file has one. */
const readProfile = (name: string | undefined, env: NodeJS.ProcessEnv): Profile => {
  const path = profileFilePath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    if (name) throw new CliError(`Profile "${name}" asked for, but there is no profile file at ${path}.`);
    return {};
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path} is not JSON (${(error as Error).message}).`);
  }
  const parsed = profileFileSchema.safeParse(json);
  if (!parsed.success)
    throw new CliError(
      `${path} is not a profile file: ${parsed.error.issues[0]?.message}. Write {"profiles": {"name": {"apiUrl", "apiKey", "inputsBucket"}}}.`,
    );
  const profile = parsed.data.profiles[name ?? 'default'];
  if (name && !profile)
    throw new CliError(
      `No profile "${name}" in ${path}; it has: ${Object.keys(parsed.data.profiles).join(', ') || 'none'}.`,
    );
  return profile ?? {};
};

export interface Settings {
  apiUrl: string;
  apiKey: string;
  /** The deployment's inputs bucket, when known; required only to upload a local file. */
  inputsBucket?: string;
  /** Where under the bucket uploads go: an owner scoped to `alice/` sets `alice/`. */
  inputPrefix: string;
  region?: string;
  /** The local runtime (a loopback API URL): its S3 endpoint and bucket are known. */
  local: boolean;
}

const isLoopback = (url: string) => {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
};

export const resolveSettings = (flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): Settings => {
  const profile = readProfile(flags.profile ?? env.LONGTAIL_PROFILE, env);
  const apiUrl = flags.apiUrl ?? env.LONGTAIL_API_URL ?? profile.apiUrl;
  if (!apiUrl)
    throw new CliError(
      'No API URL: set LONGTAIL_API_URL (http://127.0.0.1:3000 for `npm start`, or the URL `serverless deploy` prints), pass --api-url, or use a profile.',
    );
  if (!URL.canParse(apiUrl)) throw new CliError(`LONGTAIL_API_URL is not a URL: ${apiUrl}`);
  const apiKey = flags.apiKey ?? env.LONGTAIL_API_KEY ?? profile.apiKey;
  if (!apiKey)
    throw new CliError(
      'No API key: set LONGTAIL_API_KEY (longtail-dev-key for `npm start`), pass --api-key, or use a profile.',
    );
  const local = isLoopback(apiUrl);
  return {
    apiUrl,
    apiKey,
    inputsBucket:
      flags.inputsBucket ??
      env.LONGTAIL_INPUTS_BUCKET ??
      profile.inputsBucket ??
      (local ? 'longtail-local-inputs' : undefined),
    inputPrefix: flags.inputPrefix ?? env.LONGTAIL_INPUT_PREFIX ?? profile.inputPrefix ?? '',
    region: profile.region,
    local,
  };
};
