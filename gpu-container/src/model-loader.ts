import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LongtailError } from '../../lib/errors';
import { workerErrorCodes } from '../../lib/jobs/worker-report';
import { modelManifestSchema } from '../../lib/models/manifest';
import type { ModelManifest } from '../../lib/models/manifest';

export interface ModelFiles {
  manifest: ModelManifest;
  onnxPath: string;
}

/** Reads `<modelsDir>/<name>/model.json`; the ONNX file sits beside it. */
export const loadModelFiles = async (modelsDir: string, name: string): Promise<ModelFiles> => {
  const folder = join(modelsDir, name);
  let raw: string;
  try {
    raw = await readFile(join(folder, 'model.json'), 'utf8');
  } catch {
    throw new LongtailError(
      workerErrorCodes.modelNotFound,
      `Model ${name} is not installed in ${modelsDir}.`,
    );
  }
  const manifest = modelManifestSchema.parse(JSON.parse(raw));
  return { manifest, onnxPath: join(folder, manifest.file) };
};
