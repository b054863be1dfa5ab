import * as ort from 'onnxruntime-node';
import type { ModelManifest } from '../../lib/models/manifest';
import { decodePredictions } from '../../lib/models/tensors';
import type { Prediction, TensorData } from '../../lib/models/tensors';
import type { EncodedBatch } from './model-inputs';

/** One inference call: encoded tensors → ONNX Runtime → one prediction per record. */
export const predict = async (
  session: ort.InferenceSession,
  manifest: ModelManifest,
  batch: EncodedBatch,
  alphabet?: readonly string[],
): Promise<Prediction[]> => {
  const feeds = Object.fromEntries(
    Object.entries(batch.feeds).map(([name, { data, dims }]) => [
      name,
      new ort.Tensor('float32', data, dims),
    ]),
  );
  const results = await session.run(feeds);
  const outputs: Record<string, TensorData> = {};
  for (const [name, tensor] of Object.entries(results)) {
    outputs[name] = { data: tensor.data as Float32Array, dims: [...tensor.dims] };
  }
  return decodePredictions(manifest, outputs, batch.count, alphabet);
};
