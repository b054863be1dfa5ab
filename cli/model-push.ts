/**
 * Registering a model version through the API: declare its files (SHA-256 and size), upload
 * each through the presigned links the API answers with (in parts above its multipart size),
 * finish, and wait for the check. A folder's files all go up: the ONNX file, its external data,
 * extras such as an alphabet; its model.json is the manifest.
 */
import { open, readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describeModelFile } from '../lib/models/model-file';
import type { FileUpload, FinishVersionRequest, LongtailClient } from './client';
import { CliError } from './errors';

export interface PushRequest {
  name: string;
  /** An ONNX file, or a folder of the version's files. */
  source: string;
  manifestPath?: string;
  version?: string;
  aliases?: string[];
  /** `none` for a model run one record at a time. */
  batchAxis?: string;
  onPart?: (file: string, part: number, parts: number) => void;
}

/** The files of a version: the one given, or every file of a folder but dot files and model.json. */
const filesOf = async (source: string) => {
  const found = await stat(source).catch(() => undefined);
  if (!found) throw new CliError(`No such file or folder: ${source}`);
  const paths = found.isDirectory()
    ? (await readdir(source))
        .filter((f) => !f.startsWith('.') && f !== 'model.json')
        .map((f) => join(source, f))
    : [source];
  return { isFolder: found.isDirectory(), paths };
};

const readManifest = async (path: string) => {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (error) {
    throw new CliError(`Cannot read the manifest ${path}: ${(error as Error).message}`);
  }
};

/**
 * Sends one file through the link the API answered with: one PUT, or its parts one after another.
 * Answers the parts' ETags for the finish request when it went up in parts.
 */
export const uploadThroughLink = async (path: string, upload: FileUpload, onPart?: PushRequest['onPart']) => {
  if (upload.url) {
    const response = await fetch(upload.url, {
      method: 'PUT',
      headers: upload.headers,
      body: await readFile(path),
    });
    if (!response.ok)
      throw new CliError(`Uploading ${upload.name}: ${response.status} ${await response.text()}`);
    return undefined;
  }
  if (!upload.multipart) throw new CliError(`The API gave no upload link for ${upload.name}.`);
  const { uploadId, partSize, parts } = upload.multipart;
  const handle = await open(path);
  try {
    const done = [];
    for (const part of parts) {
      const buffer = Buffer.alloc(partSize);
      const { bytesRead } = await handle.read(buffer, 0, partSize, (part.partNumber - 1) * partSize);
      const response = await fetch(part.url, { method: 'PUT', body: buffer.subarray(0, bytesRead) });
      if (!response.ok)
        throw new CliError(`Uploading part ${part.partNumber} of ${upload.name}: ${response.status}`);
      done.push({ partNumber: part.partNumber, etag: response.headers.get('etag') ?? '' });
      onPart?.(upload.name, part.partNumber, parts.length);
    }
    return { name: upload.name, uploadId, parts: done };
  } finally {
    await handle.close();
  }
};

/** Registers, uploads, finishes and waits: answers the version once it is ready or failed. */
export const pushModel = async (
  client: LongtailClient,
  request: PushRequest,
  pollMs = 500,
): ReturnType<LongtailClient['getModelVersion']> => {
  const { isFolder, paths } = await filesOf(request.source);
  const files = await Promise.all(paths.map((path) => describeModelFile(path)));
  const manifestPath = request.manifestPath ?? (isFolder ? join(request.source, 'model.json') : undefined);
  const manifest =
    manifestPath && (await stat(manifestPath).catch(() => undefined))
      ? await readManifest(manifestPath)
      : undefined;
  const created = await client.registerVersion(request.name, {
    files,
    ...(request.version ? { version: request.version } : {}),
    ...(manifest ? { manifest } : {}),
    ...(request.aliases?.length ? { aliases: request.aliases } : {}),
    ...(request.batchAxis !== undefined
      ? { batchAxis: request.batchAxis === 'none' ? null : Number(request.batchAxis) }
      : {}),
  });
  const multipart: NonNullable<FinishVersionRequest['multipart']> = [];
  for (const upload of created.uploads ?? []) {
    const path = paths.find((p) => basename(p) === upload.name);
    if (!path) throw new CliError(`The API asked for ${upload.name}, which is not among the files.`);
    const parts = await uploadThroughLink(path, upload, request.onPart);
    if (parts) multipart.push(parts);
  }
  await client.finishVersion(request.name, created.version, multipart.length ? { multipart } : {});
  for (;;) {
    const checked = await client.getModelVersion(request.name, created.version);
    if (checked.status === 'ready' || checked.status === 'failed') return checked;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
};
