import { createHash } from 'node:crypto';
import { apiKeys } from './local-stack';
import type { TestStack } from './local-stack';

/** How a registration declares a file: its name, SHA-256 and size. */
export const fileOf = (name: string, bytes: Uint8Array) => ({
  name,
  sha256: createHash('sha256').update(bytes).digest('hex'),
  size: bytes.length,
});

export interface Upload {
  name: string;
  url?: string;
  headers?: Record<string, string>;
  multipart?: { uploadId: string; partSize: number; parts: { partNumber: number; url: string }[] };
}

export interface VersionView {
  name: string;
  version: string;
  status: string;
  checksum: string;
  signature: { inputs: { name: string; datatype: string; shape: unknown[] }[] } | null;
  error: { code: string; message: string } | null;
  uploads?: Upload[];
}

/** Registers a version, uploads its files through the presigned links, and finishes it. */
export const pushModel = async (
  local: TestStack,
  name: string,
  files: Record<string, Uint8Array>,
  extra: Record<string, unknown> = {},
) => {
  const declared = Object.entries(files).map(([file, bytes]) => fileOf(file, bytes));
  const created = await local.api(`/models/${name}/versions`, {
    method: 'POST',
    body: { files: declared, ...extra },
  });
  if (created.status !== 201 && created.status !== 200) {
    throw new Error(`Registering ${name} answered ${created.status}: ${created.text}`);
  }
  const view = created.json as unknown as VersionView;
  for (const upload of view.uploads ?? []) {
    if (!upload.url) throw new Error(`${upload.name} is to go up in parts: upload it by hand`);
    const response = await fetch(upload.url, {
      method: 'PUT',
      headers: upload.headers,
      body: files[upload.name],
    });
    if (response.status !== 200) throw new Error(`Uploading ${upload.name} answered ${response.status}`);
  }
  const finished = await local.api(`/models/${name}/versions/${view.version}/finish`, {
    method: 'POST',
    body: {},
  });
  if (finished.status !== 202)
    throw new Error(`Finishing ${name}:${view.version} answered ${finished.status}: ${finished.text}`);
  return view;
};

/** Polls the version until its check has decided it. */
export const waitForCheck = async (local: TestStack, name: string, version: string, key = apiKeys.alice) => {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { json } = await local.api(`/models/${name}/versions/${version}`, { key });
    const view = json as unknown as VersionView;
    if (view.status === 'ready' || view.status === 'failed') return view;
    if (Date.now() > deadline) throw new Error(`${name}:${version} still ${view.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

/** Polls the model until `alias` points at `version`. */
export const waitForAlias = async (local: TestStack, name: string, alias: string, version: string) => {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { json } = await local.api(`/models/${name}`);
    if ((json.aliases as Record<string, string> | undefined)?.[alias] === version) return;
    if (Date.now() > deadline) throw new Error(`${name}@${alias} is not ${version}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};
