/**
 * `npm run models:push -- <name> <model.onnx | folder> [--manifest m.json] [--version v]
 * [--alias a] [--batch-axis n]`: registers a model version through Longtail's API, uploads its
 * files through the links the API hands back (in parts above 100 MiB), finishes it and waits for
 * its check. A folder's files all go up: the ONNX file, its external data, extras such as an
 * alphabet. Talks to LONGTAIL_API_URL (default http://127.0.0.1:3000) with LONGTAIL_API_KEY.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

interface Upload {
  name: string;
  url?: string;
  headers?: Record<string, string>;
  multipart?: { uploadId: string; partSize: number; parts: { partNumber: number; url: string }[] };
}

const apiUrl = process.env.LONGTAIL_API_URL ?? 'http://127.0.0.1:3000';
const apiKey = process.env.LONGTAIL_API_KEY ?? 'longtail-dev-key';

const call = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown> & {
    error?: { code: string; message: string };
  };
  if (!response.ok)
    throw new Error(
      `${method} ${path}: ${response.status} ${json.error?.code ?? ''} ${json.error?.message ?? ''}`,
    );
  return json;
};

const sha256Of = async (path: string) => {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
};

const uploadFile = async (path: string, upload: Upload) => {
  if (upload.url) {
    const response = await fetch(upload.url, {
      method: 'PUT',
      headers: upload.headers,
      body: await readFile(path),
    });
    if (!response.ok)
      throw new Error(`Uploading ${upload.name}: ${response.status} ${await response.text()}`);
    return undefined;
  }
  const { uploadId, partSize, parts } = upload.multipart!;
  const handle = await open(path);
  try {
    const done = [];
    for (const part of parts) {
      const buffer = Buffer.alloc(partSize);
      const { bytesRead } = await handle.read(buffer, 0, partSize, (part.partNumber - 1) * partSize);
      const response = await fetch(part.url, { method: 'PUT', body: buffer.subarray(0, bytesRead) });
      if (!response.ok)
        throw new Error(`Uploading part ${part.partNumber} of ${upload.name}: ${response.status}`);
      done.push({ partNumber: part.partNumber, etag: response.headers.get('etag') ?? '' });
      process.stderr.write(`\r${upload.name}: part ${part.partNumber} of ${parts.length}`);
    }
    process.stderr.write('\n');
    return { name: upload.name, uploadId, parts: done };
  } finally {
    await handle.close();
  }
};

const main = async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      manifest: { type: 'string' },
      version: { type: 'string' },
      alias: { type: 'string', multiple: true },
      'batch-axis': { type: 'string' },
    },
  });
  const [name, source] = positionals;
  if (!name || !source)
    throw new Error(
      'Usage: npm run models:push -- <name> <model.onnx | folder> [--manifest m.json] [--version v] [--alias a]',
    );
  const paths = (await stat(source)).isDirectory()
    ? (await readdir(source))
        .filter((f) => !f.startsWith('.') && f !== 'model.json')
        .map((f) => join(source, f))
    : [source];
  const files = await Promise.all(
    paths.map(async (path) => ({
      name: basename(path),
      sha256: await sha256Of(path),
      size: (await stat(path)).size,
    })),
  );
  const manifestPath =
    values.manifest ?? ((await stat(source)).isDirectory() ? join(source, 'model.json') : undefined);
  const manifest = manifestPath
    ? await readFile(manifestPath, 'utf8').then(JSON.parse, () => undefined)
    : undefined;
  const created = await call('POST', `/models/${name}/versions`, {
    files,
    ...(values.version ? { version: values.version } : {}),
    ...(manifest ? { manifest } : {}),
    ...(values.alias ? { aliases: values.alias } : {}),
    ...(values['batch-axis']
      ? { batchAxis: values['batch-axis'] === 'none' ? null : Number(values['batch-axis']) }
      : {}),
  });
  const version = String(created.version);
  const multipart = [];
  for (const upload of (created.uploads as Upload[]) ?? []) {
    const path = paths.find((p) => basename(p) === upload.name)!;
    const parts = await uploadFile(path, upload);
    if (parts) multipart.push(parts);
  }
  await call('POST', `/models/${name}/versions/${version}/finish`, multipart.length ? { multipart } : {});
  for (;;) {
    const checked = await call('GET', `/models/${name}/versions/${version}`);
    if (checked.status === 'ready' || checked.status === 'failed') {
      console.log(
        JSON.stringify({
          ref: `${name}:${version}`,
          status: checked.status,
          error: checked.error,
          checksum: checked.checksum,
        }),
      );
      if (checked.status === 'failed') process.exitCode = 1;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
};

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
