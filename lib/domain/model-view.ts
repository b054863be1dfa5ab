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
