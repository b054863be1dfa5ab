/**
 * The CLI's S3 side: the API takes inputs by S3 URI and answers with S3 URIs, so local files go
 * up to the inputs bucket and results come down from the outputs bucket with the caller's own
 * AWS credentials (the standard chain; `AWS_ENDPOINT_URL` for an emulator).
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError } from './errors';
import type { Settings } from './config';

/** The local runtime's AWS endpoint, used when the API is on loopback and none is set. */
const localAwsEndpoint = 'http://127.0.0.1:4566';

export const createS3 = (settings: Settings, env: NodeJS.ProcessEnv = process.env) => {
  const endpoint =
    env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? (settings.local ? localAwsEndpoint : undefined);
  const hasCredentials = Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE);
  return new S3Client({
    region:
      settings.region ??
      env.AWS_REGION ??
      env.AWS_DEFAULT_REGION ??
      (settings.local ? 'us-east-1' : undefined),
    // An emulator serves buckets by path, not by host name.
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    // The local emulator takes any key; a user of `npm start` should not need an AWS account.
    ...(settings.local && !hasCredentials
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
    // Each part and each request is retried on its own: a dropped connection costs one part.
    maxAttempts: 5,
  });
};

export const parseS3Uri = (uri: string) => {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!match) throw new CliError(`Not an S3 URI: ${uri}`);
  return { bucket: match[1]!, key: match[2]! };
};

/** Every file under a folder (dot files left out), as paths relative to it with `/` separators. */
export const filesUnder = async (folder: string): Promise<string[]> => {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .filter((path) => !path.split('/').some((part) => part.startsWith('.')))
    .sort();
};

export interface UploadProgress {
  (loaded: number, total: number): void;
}

/**
 * Uploads files to `s3://bucket/prefix<relative path>` with multipart uploads. An object appears
 * only when its upload completes; a failed one is aborted, so no partial input can be submitted.
 */
export const uploadFiles = async (
  s3: S3Client,
  target: { bucket: string; prefix: string },
  folder: string,
  paths: string[],
  onProgress: UploadProgress,
) => {
  const sizes = await Promise.all(paths.map(async (path) => (await stat(join(folder, path))).size));
  const total = sizes.reduce((sum, size) => sum + size, 0);
  let finished = 0;
  onProgress(0, total);
  for (const [index, path] of paths.entries()) {
    const upload = new Upload({
      client: s3,
      params: {
        Bucket: target.bucket,
        Key: `${target.prefix}${path}`,
        Body: createReadStream(join(folder, path)),
      },
      partSize: 8 * 1024 * 1024,
      queueSize: 4,
    });
    upload.on('httpUploadProgress', (progress) => onProgress(finished + (progress.loaded ?? 0), total));
    try {
      await upload.done();
    } catch (error) {
      throw new CliError(
        `Uploading ${path} to s3://${target.bucket}/${target.prefix}${path} failed: ${describeAwsError(error)}. Nothing was submitted.`,
      );
    }
    finished += sizes[index]!;
    onProgress(finished, total);
  }
};

/** The result files of a job: its one object, or every object of a kind under its prefix. */
export const objectsOf = async (s3: S3Client, uri: string, suffix: string): Promise<string[]> => {
  const { bucket, key } = parseS3Uri(uri);
  if (!key.endsWith('/')) return [uri];
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: key, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? [])
      if (object.Key?.endsWith(suffix)) keys.push(`s3://${bucket}/${object.Key}`);
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
};

const bodyOf = async (s3: S3Client, uri: string) => {
  const { bucket, key } = parseS3Uri(uri);
  try {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Body as Readable;
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return undefined;
    throw new CliError(`Reading ${uri} failed: ${describeAwsError(error)}.`);
  }
};

/** Streams an object into a file (folders made as needed); false when there is no such object. */
export const downloadObject = async (s3: S3Client, uri: string, path: string) => {
  const body = await bodyOf(s3, uri);
  if (!body) return false;
  await mkdir(dirname(path), { recursive: true });
  await pipeline(body, createWriteStream(path));
  return true;
};

/** Streams an object to a writable (stdout), whole or its first `lines` lines. */
export const copyObject = async (
  s3: S3Client,
  uri: string,
  out: NodeJS.WritableStream,
  lines?: number,
): Promise<boolean> => {
  const body = await bodyOf(s3, uri);
  if (!body) return false;
  if (lines === undefined) {
    await pipeline(body, out, { end: false });
    return true;
  }
  const reader = createInterface({ input: body, crlfDelay: Infinity });
  let count = 0;
  for await (const line of reader) {
    if (count++ >= lines) break;
    out.write(`${line}\n`);
  }
  reader.close();
  body.destroy();
  return true;
};

/** An SDK error in a sentence: no stack, the service's code when it sent one. */
export const describeAwsError = (error: unknown) => {
  const { name, message, $metadata } = error as Error & { $metadata?: { httpStatusCode?: number } };
  if (name === 'CredentialsProviderError')
    return 'no AWS credentials (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)';
  if (message === 'Region is missing') return 'no AWS region (set AWS_REGION)';
  return $metadata?.httpStatusCode ? `${name}: ${message}` : message;
};
