import type { ModelVersion } from './model-version';

/** A version as the API shows it: everything but the owner's internal bookkeeping. */
export const modelVersionView = (version: ModelVersion) => ({
  name: version.name,
  version: version.version,
  ref: `${version.name}:${version.version}`,
  status: version.status,
  checksum: version.checksum,
  size: version.size,
  onnxFile: version.onnxFile,
  files: version.files,
  manifest: version.manifest ?? null,
  signature: version.signature ?? null,
  error: version.error ?? null,
  createdBy: version.createdBy,
  createdAt: version.createdAt,
  checkedAt: version.checkedAt ?? null,
});

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
}) => {
  const latestName = model.aliases.find((alias) => alias.alias === 'latest')?.version;
  const latest = model.versions.find((version) => version.version === latestName);
  const manifest = latest?.manifest;
  const signature = latest?.signature as { inputs?: unknown[]; outputs?: unknown[] } | undefined;
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
