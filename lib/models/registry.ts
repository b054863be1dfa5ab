import churnRisk from '../../models/churn-risk/model.json';
import textOrientation from '../../models/text-orientation/model.json';
import textRecognition from '../../models/text-recognition/model.json';
import { modelManifestSchema } from './manifest';
import type { ModelManifest } from './manifest';

/**
 * The models this deployment serves. Manifests are bundled into every function that imports
 * this module, so the API validates records without reading S3 or the ONNX files.
 */
const manifests: ModelManifest[] = [churnRisk, textOrientation, textRecognition].map((raw) =>
  modelManifestSchema.parse(raw),
);

export const listModels = (): ModelManifest[] => manifests;

export const findModel = (name: string): ModelManifest | undefined =>
  manifests.find((manifest) => manifest.name === name);
