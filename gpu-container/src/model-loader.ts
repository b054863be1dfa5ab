import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LongtailError } from '../../lib/errors';
import { workerErrorCodes } from '../../lib/domain/worker-output';
import { modelManifestSchema } from '../../lib/models/manifest';
import type { ModelManifest } from '../../lib/models/manifest';

export interface ModelFiles {
  manifest: ModelManifest;
  onnxPath: string;
  /** A `ctc` model's characters, class 1 onwards. */
  alphabet?: string[];
}

export const readAlphabet = async (
  folder: string,
  manifest: ModelManifest,
): Promise<string[] | undefined> => {
  const post = manifest.postprocess;
  if (post.type !== 'ctc') return undefined;
  const lines = (await readFile(join(folder, post.alphabetFile), 'utf8')).split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return post.spaceLast ? [...lines, ' '] : lines;
};

/** Reads `<modelsDir>/<name>/model.json`; the ONNX file (and a recognizer's alphabet) sit beside it. */
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
  return { manifest, onnxPath: join(folder, manifest.file), alphabet: await readAlphabet(folder, manifest) };
};
