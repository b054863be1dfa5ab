import { z } from 'zod';
import { modelManifestSchema, recordFieldSchema } from '../models/manifest';
import type { ModelManifest } from '../models/manifest';
import { modelSignatureSchema, oipDatatypes, tensorSpecSchema } from '../models/signature';
import type { ModelSignature } from '../models/signature';
import { modelFileSchema, modelStatuses } from './model-version';
import type { ModelVersion } from './model-version';

/**
 * What the API answers about models, as zod schemas: the one source of the response types below,
 * of the OpenAPI document (lib/openapi) and of the typed client generated from it.
 */

const isoTime = z.iso.datetime({ offset: true });
const aliasesSchema = z
  .record(z.string(), z.string())
  .meta({ description: 'Each alias and the version it points at.', example: { latest: '2', prod: '1' } });
const exampleChecksum = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

export const modelVersionViewSchema = z
  .strictObject({
    name: z.string(),
    version: z.string(),
    ref: z.string().meta({ description: '`name:version`, as a job names it.' }),
    status: z.enum(modelStatuses),
    checksum: z.string(),
    size: z.number().int(),
    onnxFile: z.string(),
    files: z.array(modelFileSchema),
    manifest: modelManifestSchema.nullable(),
    signature: modelSignatureSchema.nullable(),
    error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
    createdBy: z.string(),
    createdAt: isoTime,
    checkedAt: isoTime.nullable(),
  })
  .meta({
    id: 'ModelVersion',
    example: {
      name: 'my-model',
      version: '1',
      ref: 'my-model:1',
      status: 'ready',
      checksum: exampleChecksum,
      size: 1024,
      onnxFile: 'model.onnx',
      files: [{ name: 'model.onnx', sha256: exampleChecksum, size: 1024 }],
      manifest: null,
      signature: {
        inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', 4] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', 1] }],
      },
      error: null,
      createdBy: 'alice',
      createdAt: '2026-01-05T10:00:00.000Z',
      checkedAt: '2026-01-05T10:00:05.000Z',
    },
  });
export type ModelVersionView = z.output<typeof modelVersionViewSchema>;

/** A version as the API shows it: everything but the owner's internal bookkeeping. */
export const modelVersionView = (version: ModelVersion): ModelVersionView => ({
  name: version.name,
  version: version.version,
  ref: `${version.name}:${version.version}`,
  status: version.status,
  checksum: version.checksum,
  size: version.size,
  onnxFile: version.onnxFile,
  files: version.files,
  manifest: version.manifest ?? null,
  // Written by the version's check, from what ONNX Runtime read of the graph (a ModelSignature).
  signature: (version.signature as ModelSignature | undefined) ?? null,
  error: version.error ?? null,
  createdBy: version.createdBy,
  createdAt: version.createdAt,
  checkedAt: version.checkedAt ?? null,
});

export const fileUploadSchema = z
  .strictObject({
    name: z.string(),
    url: z.string().optional().meta({ description: 'PUT the whole file here, with `headers`.' }),
    headers: z.record(z.string(), z.string()).optional(),
    multipart: z
      .strictObject({
        uploadId: z.string(),
        partSize: z.number().int(),
        parts: z.array(z.strictObject({ partNumber: z.number().int(), url: z.string() })),
      })
      .optional()
      .meta({ description: 'Or PUT each part, then finish the version with the parts’ ETags.' }),
  })
  .meta({ id: 'FileUpload' });

export const registeredVersionSchema = modelVersionViewSchema
  .extend({
    uploads: z
      .array(fileUploadSchema)
      .meta({ description: 'A link per file still to upload; empty when a repeat finds them all there.' }),
  })
  .meta({ id: 'RegisteredModelVersion' });

const modelCatalogEntrySchema = z
  .strictObject({
    name: z.string(),
    version: z.string().nullable().meta({ description: 'The version `latest` points at.' }),
    shared: z.boolean().meta({ description: 'A shipped example every owner sees.' }),
    description: z.string().nullable(),
    fields: z.array(recordFieldSchema).optional().meta({ description: 'What each record holds.' }),
    prediction: z
      .union([z.strictObject({ text: z.literal(true) }), z.strictObject({ labels: z.array(z.string()) })])
      .optional(),
    example: z.record(z.string(), z.unknown()).optional().meta({ description: 'A record to send as is.' }),
    tensors: z
      .strictObject({ inputs: z.array(tensorSpecSchema), outputs: z.array(tensorSpecSchema) })
      .nullable()
      .optional()
      .meta({ description: 'For a model served as tensors (no manifest): its inputs and outputs.' }),
    versions: z.array(z.strictObject({ version: z.string(), status: z.enum(modelStatuses) })),
    aliases: aliasesSchema,
  })
  .meta({
    id: 'ModelSummary',
    example: {
      name: 'churn-risk',
      version: '1',
      shared: true,
      description: 'Probability that a customer cancels within 90 days.',
      fields: [{ name: 'tenure_months', type: 'integer', description: 'Months as a customer', minimum: 0 }],
      prediction: { labels: ['stays', 'churns'] },
      example: { tenure_months: 12 },
      versions: [{ version: '1', status: 'ready' }],
      aliases: { latest: '1' },
    },
  });
export type ModelSummary = z.output<typeof modelCatalogEntrySchema>;

export const modelListSchema = z
  .strictObject({ models: z.array(modelCatalogEntrySchema) })
  .meta({ id: 'ModelList' });

export const modelDetailSchema = z
  .strictObject({
    name: z.string(),
    shared: z.boolean(),
    versions: z.array(modelVersionViewSchema).meta({ description: 'Oldest first.' }),
    aliases: aliasesSchema,
  })
  .meta({ id: 'Model' });

export const modelAliasViewSchema = z
  .strictObject({
    ownerId: z.string(),
    name: z.string(),
    alias: z.string(),
    version: z.string(),
    updatedAt: isoTime,
  })
  .meta({
    id: 'ModelAlias',
    example: {
      ownerId: 'alice',
      name: 'my-model',
      alias: 'prod',
      version: '1',
      updatedAt: '2026-01-05T10:00:00.000Z',
    },
  });

export const deletedVersionSchema = z
  .strictObject({ name: z.string(), version: z.string(), deleted: z.literal(true) })
  .meta({ id: 'DeletedModelVersion', example: { name: 'my-model', version: '1', deleted: true } });

/** The Open Inference Protocol's model metadata (KServe, Triton "V2"). */
export const oipModelMetadataSchema = z
  .strictObject({
    name: z.string(),
    versions: z.array(z.string()),
    platform: z.literal('onnxruntime_onnx'),
    inputs: z.array(
      z.strictObject({ name: z.string(), datatype: z.enum(oipDatatypes), shape: z.array(z.number().int()) }),
    ),
    outputs: z.array(
      z.strictObject({ name: z.string(), datatype: z.enum(oipDatatypes), shape: z.array(z.number().int()) }),
    ),
  })
  .meta({
    id: 'OipModelMetadata',
    example: {
      name: 'my-model',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
    },
  });

export const oipModelReadySchema = z
  .strictObject({ name: z.string(), version: z.string().nullable(), ready: z.boolean() })
  .meta({ id: 'OipModelReady', example: { name: 'my-model', version: '1', ready: true } });

/**
 * A model as `GET /models` shows it: what a caller needs to send it records (its fields and an
 * example, or for a model served as tensors its inputs and outputs) and which versions it has.
 * Not how records become tensors: that is the manifest's business.
 */
export const modelCatalogView = (model: {
  name: string;
  shared: boolean;
  versions: ModelVersion[];
  aliases: { alias: string; version: string }[];
}): ModelSummary => {
  const latestName = model.aliases.find((alias) => alias.alias === 'latest')?.version;
  const latest = model.versions.find((version) => version.version === latestName);
  const manifest: ModelManifest | undefined = latest?.manifest;
  const signature = latest?.signature as ModelSignature | undefined;
  return {
    name: model.name,
    version: latest?.version ?? null,
    shared: model.shared,
    description: manifest?.description ?? null,
    ...(manifest
      ? {
          fields: manifest.fields,
          prediction:
            manifest.postprocess.type === 'ctc' ? { text: true } : { labels: manifest.postprocess.labels },
          example: manifest.example,
        }
      : { tensors: signature ? { inputs: signature.inputs, outputs: signature.outputs } : null }),
    versions: model.versions.map((version) => ({ version: version.version, status: version.status })),
    aliases: Object.fromEntries(model.aliases.map((alias) => [alias.alias, alias.version])),
  };
};
