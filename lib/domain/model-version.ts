import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InvalidInput } from '../errors';
import { modelManifestSchema } from '../models/manifest';
import type { ModelManifest } from '../models/manifest';

/**
 * A registered model version: an ONNX file (with its external-data files, if any), an optional
 * manifest and extra files, stored under `<owner>/<name>/<version>/` in the models bucket.
 * Versions are immutable; aliases (`latest`, `prod`, …) point at them and move.
 */

/** Names and aliases go into S3 keys, DynamoDB keys and URLs as they are: keep them plain. */
export const modelNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a model name is 1 to 63 lowercase letters, digits and dashes');
export const modelVersionSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'a version is 1 to 64 letters, digits, dots, dashes and underscores, starting with a letter or digit',
  );
export const modelAliasSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,31}$/,
    'an alias is 1 to 32 lowercase letters, digits and dashes, starting with a letter',
  );

/** A file name inside a version: no folders, nothing that could climb out of the version's prefix. */
export const modelFileNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/,
    'a file name is 1 to 128 letters, digits, dots, dashes and underscores',
  )
  .refine((name) => !name.includes('..'), 'a file name may not contain ".."');

export const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 is 64 lowercase hex digits');

/** Single PUTs take up to 5 GiB; past that, multipart. 5 TiB is S3's limit for one object. */
export const maxModelFileBytes = 5 * 1024 ** 4;

export const modelFileSchema = z.strictObject({
  name: modelFileNameSchema,
  sha256: sha256Schema,
  size: z.number().int().positive().max(maxModelFileBytes),
});
export type ModelFile = z.infer<typeof modelFileSchema>;

export const modelStatuses = ['uploading', 'checking', 'ready', 'failed'] as const;
export type ModelStatus = (typeof modelStatuses)[number];

/** Who shipped examples belong to: every owner sees them, none may change them. */
export const sharedModelOwner = 'longtail';

export interface ModelVersion {
  ownerId: string;
  name: string;
  version: string;
  status: ModelStatus;
  /** The ONNX file ONNX Runtime opens; the other files sit beside it. */
  onnxFile: string;
  files: ModelFile[];
  /** One digest for the version's bytes: SHA-256 over its files' names and digests. */
  checksum: string;
  size: number;
  manifest?: ModelManifest;
  /** The graph's inputs and outputs, read by ONNX Runtime when the version was checked. */
  signature?: unknown;
  /** Why the check failed, in ONNX Runtime's words where it had some. */
  error?: { code: string; message: string };
  /** Aliases to point at the version once it is ready. */
  requestedAliases?: string[];
  /**
   * For a model served as tensors: the axis its records are batched along, when not the first
   * (null: one record per call). The check writes it into the signature.
   */
  batchAxis?: number | null;
  createdBy: string;
  createdAt: string;
  checkedAt?: string;
  /** Where the files are: `s3://<models bucket>/<owner>/<name>/<version>/`. */
  location: string;
}

export interface ModelAlias {
  ownerId: string;
  name: string;
  alias: string;
  version: string;
  updatedAt: string;
}

/** The worker checks a model version when this variable names it (`<owner>/<name>/<version>`). */
export const checkModelVariable = 'LONGTAIL_CHECK_MODEL';

/** The alias a bare model name means. */
export const defaultAlias = 'latest';

export const checksumOf = (files: readonly ModelFile[]) =>
  createHash('sha256')
    .update(
      [...files]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((file) => `${file.name}\t${file.sha256}\n`)
        .join(''),
    )
    .digest('hex');

/** `name`, `name:version` or `name@alias`, as jobs name a model. */
export type ModelRef = { name: string } & ({ version: string } | { alias: string });

export const parseModelRef = (ref: string): ModelRef => {
  const match = /^([^:@]+)(?:(:)(.+)|(@)(.+))?$/.exec(ref);
  const name = modelNameSchema.safeParse(match?.[1]);
  if (!match || !name.success) {
    throw new InvalidInput(
      'UNKNOWN_MODEL',
      `"${ref.slice(0, 100)}" is not a model reference: use name, name:version or name@alias.`,
    );
  }
  if (match[2]) {
    const version = modelVersionSchema.safeParse(match[3]);
    if (!version.success)
      throw new InvalidInput('UNKNOWN_MODEL', `"${ref.slice(0, 100)}": ${version.error.issues[0]?.message}.`);
    return { name: name.data, version: version.data };
  }
  const alias = modelAliasSchema.safeParse(match[5] ?? defaultAlias);
  if (!alias.success)
    throw new InvalidInput('UNKNOWN_MODEL', `"${ref.slice(0, 100)}": ${alias.error.issues[0]?.message}.`);
  return { name: name.data, alias: alias.data };
};

export const formatModelRef = (version: Pick<ModelVersion, 'name' | 'version'>) =>
  `${version.name}:${version.version}`;

/** What registering a version sends: its files' digests and sizes, and an optional manifest. */
export const registerVersionRequestSchema = z.strictObject({
  version: modelVersionSchema.optional(),
  /** The ONNX file among `files`; defaults to the only `.onnx` file. */
  onnxFile: modelFileNameSchema.optional(),
  files: z.array(modelFileSchema).min(1).max(100),
  manifest: z.unknown().optional(),
  /** Point these aliases at the version once it is ready (`latest` always follows the newest). */
  aliases: z.array(modelAliasSchema).max(10).optional(),
  /** A model without a manifest: the axis records are batched along (null: one at a time). */
  batchAxis: z.number().int().min(0).max(7).nullable().optional(),
});
/** What `PUT /models/{name}/aliases/{alias}` sends: the version to point the alias at. */
export const setAliasRequestSchema = z.strictObject({ version: modelVersionSchema });

export type RegisterVersionRequest = z.infer<typeof registerVersionRequestSchema>;

/** The ONNX file of a request, and its manifest checked against the manifest schema. */
export const checkVersionRequest = (
  request: RegisterVersionRequest,
  id: { name: string; version: string },
): { onnxFile: string; manifest?: ModelManifest } => {
  const names = request.files.map((file) => file.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate) throw new InvalidInput('INVALID_MODEL', `The file ${duplicate} is listed twice.`);
  const onnxFiles = names.filter((name) => name.endsWith('.onnx'));
  const onnxFile = request.onnxFile ?? (onnxFiles.length === 1 ? onnxFiles[0] : undefined);
  if (!onnxFile || !names.includes(onnxFile)) {
    throw new InvalidInput(
      'INVALID_MODEL',
      request.onnxFile
        ? `onnxFile ${request.onnxFile} is not among the files.`
        : `Say which file is the ONNX graph (onnxFile): the files hold ${onnxFiles.length} .onnx files.`,
    );
  }
  if (request.manifest === undefined) return { onnxFile };
  if (typeof request.manifest !== 'object' || request.manifest === null || Array.isArray(request.manifest)) {
    throw new InvalidInput('INVALID_MANIFEST', 'The manifest must be a JSON object.');
  }
  // The registration names the model and its file: a manifest need not repeat them.
  const manifest = modelManifestSchema.safeParse({ ...request.manifest, ...id, file: onnxFile });
  if (!manifest.success) {
    const issue = manifest.error.issues[0];
    throw new InvalidInput(
      'INVALID_MANIFEST',
      `The manifest does not fit: ${issue?.path.join('.') || 'manifest'}: ${issue?.message}.`,
      {
        issues: manifest.error.issues
          .slice(0, 10)
          .map((i) => ({ path: i.path.join('.'), message: i.message })),
      },
    );
  }
  return { onnxFile, manifest: manifest.data };
};
