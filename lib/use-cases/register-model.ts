import { z } from 'zod';
import {
  checkVersionRequest,
  checksumOf,
  modelNameSchema,
  registerVersionRequestSchema,
} from '../domain/model-version';
import type { ModelVersion } from '../domain/model-version';
import { Conflict, InvalidInput, NotFound } from '../errors';
import type { FileUpload, ModelArtifacts, ModelChecks, ModelRegistry } from '../ports/model-registry';
import { parseOrThrow } from '../validation';

export interface RegisterModelDeps {
  registry: ModelRegistry;
  artifacts: ModelArtifacts;
  checks: ModelChecks;
  modelsBucket: string;
  now?: () => Date;
}

const nowOf = (deps: { now?: () => Date }) => (deps.now ?? (() => new Date()))().toISOString();

export const modelNameOrThrow = (name: string) => parseOrThrow(modelNameSchema, name, 'model name');

/** Same files, same manifest: a registration sent again, answered as the first was. */
const sameRegistration = (existing: ModelVersion, candidate: ModelVersion) =>
  existing.checksum === candidate.checksum &&
  existing.batchAxis === candidate.batchAxis &&
  existing.onnxFile === candidate.onnxFile &&
  JSON.stringify(existing.manifest ?? null) === JSON.stringify(candidate.manifest ?? null);

export interface RegisteredVersion {
  version: ModelVersion;
  /** Links for the files still to upload; empty when a re-sent registration finds them all there. */
  uploads: FileUpload[];
  replayed: boolean;
}

/**
 * `POST /models/{name}/versions`: records a version `uploading` and hands back an upload link
 * per file. The bytes go straight to S3; `finishModelVersion` then starts the check. Sending the
 * same registration again is answered idempotently; another one for an existing version is 409.
 */
export const registerModelVersion = async (
  ownerId: string,
  rawName: string,
  rawRequest: unknown,
  deps: RegisterModelDeps,
): Promise<RegisteredVersion> => {
  const name = modelNameOrThrow(rawName);
  const request = parseOrThrow(registerVersionRequestSchema, rawRequest, 'model version');
  const version = request.version ?? String(await deps.registry.nextVersionNumber(ownerId, name));
  const { onnxFile, manifest } = checkVersionRequest(request, { name, version });
  const candidate: ModelVersion = {
    ownerId,
    name,
    version,
    status: 'uploading',
    onnxFile,
    files: request.files,
    checksum: checksumOf(request.files),
    size: request.files.reduce((sum, file) => sum + file.size, 0),
    ...(manifest ? { manifest } : {}),
    ...(request.aliases?.length ? { requestedAliases: request.aliases } : {}),
    ...(request.batchAxis !== undefined ? { batchAxis: request.batchAxis } : {}),
    createdBy: ownerId,
    createdAt: nowOf(deps),
    location: `s3://${deps.modelsBucket}/${ownerId}/${name}/${version}/`,
  };
  const existing = await deps.registry.getVersion(ownerId, name, version);
  if (existing) {
    if (!sameRegistration(existing, candidate)) {
      throw new Conflict(
        'MODEL_VERSION_EXISTS',
        `${name}:${version} is already registered with other files; versions never change: register a new one.`,
      );
    }
    const uploads = existing.status === 'uploading' ? await uploadsStillMissing(existing, deps) : [];
    return { version: existing, uploads, replayed: true };
  }
  try {
    await deps.registry.createVersion(candidate);
  } catch (error) {
    // A concurrent registration of the same version won: answer as its replay, or as a conflict.
    const winner =
      error instanceof Conflict ? await deps.registry.getVersion(ownerId, name, version) : undefined;
    if (!winner || !sameRegistration(winner, candidate)) throw error;
    return { version: winner, uploads: await uploadsStillMissing(winner, deps), replayed: true };
  }
  return {
    version: candidate,
    uploads: await deps.artifacts.uploadsFor(candidate.location, candidate.files),
    replayed: false,
  };
};

const uploadsStillMissing = async (version: ModelVersion, deps: RegisterModelDeps) => {
  const present = await deps.artifacts.sizes(version.location);
  const missing = version.files.filter((file) => present.get(file.name) !== file.size);
  return missing.length > 0 ? deps.artifacts.uploadsFor(version.location, missing) : [];
};

export const finishRequestSchema = z.strictObject({
  /** For files uploaded in parts: each part's number and the ETag S3 answered its PUT with. */
  multipart: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        uploadId: z.string().min(1),
        parts: z
          .array(z.strictObject({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1) }))
          .min(1)
          .max(10_000),
      }),
    )
    .max(100)
    .optional(),
});

/**
 * `POST /models/{name}/versions/{version}/finish`: completes multipart uploads, checks every file
 * is there at its declared size, and starts the check (ONNX Runtime loads the graph and runs one
 * inference); the version is `checking` until the check records `ready` or `failed`.
 */
export const finishModelVersion = async (
  ownerId: string,
  rawName: string,
  version: string,
  rawRequest: unknown,
  deps: RegisterModelDeps,
): Promise<ModelVersion> => {
  const name = modelNameOrThrow(rawName);
  const request = parseOrThrow(finishRequestSchema, rawRequest ?? {}, 'finish request');
  const registered = await deps.registry.getVersion(ownerId, name, version);
  if (!registered) throw new NotFound('MODEL_NOT_FOUND', `There is no model version ${name}:${version}.`);
  if (registered.status !== 'uploading') return registered;
  for (const upload of request.multipart ?? []) {
    if (!registered.files.some((file) => file.name === upload.name)) {
      throw new InvalidInput('INVALID_MODEL', `${upload.name} is not a file of ${name}:${version}.`);
    }
    await deps.artifacts.completeMultipart(registered.location, upload.name, upload.uploadId, upload.parts);
  }
  const present = await deps.artifacts.sizes(registered.location);
  const wrong = registered.files.filter((file) => present.get(file.name) !== file.size);
  if (wrong.length > 0) {
    throw new Conflict(
      'MODEL_UPLOAD_INCOMPLETE',
      `Not uploaded yet, or not at the declared size: ${wrong
        .map((file) => `${file.name} (${present.get(file.name) ?? 'missing'} of ${file.size} bytes)`)
        .join(', ')}.`,
      { files: wrong.map((file) => file.name) },
    );
  }
  if (await deps.registry.updateStatus(registered, ['uploading'], { status: 'checking' })) {
    try {
      await deps.checks.request(registered);
    } catch (error) {
      // Nothing will check it: back to uploading, so that finishing again starts the check.
      await deps.registry.updateStatus(registered, ['checking'], { status: 'uploading' });
      throw error;
    }
  }
  return (await deps.registry.getVersion(ownerId, name, version)) ?? registered;
};
