import * as ort from 'onnxruntime-node';
import type { ModelManifest } from '../../lib/models/manifest';
import type { ModelRecord } from '../../lib/models/records';
import { decodePredictions, encodeRecords } from '../../lib/models/tensors';
import type { Prediction, TensorData } from '../../lib/models/tensors';

/** One inference call: records → input tensors → ONNX Runtime → one prediction per record. */
export const predict = async (
  session: ort.InferenceSession,
  manifest: ModelManifest,
  records: ModelRecord[],
): Promise<Prediction[]> => {
  const feeds = Object.fromEntries(
    Object.entries(encodeRecords(manifest, records)).map(([name, { data, dims }]) => [
      name,
      new ort.Tensor('float32', data, dims),
    ]),
  );
  const results = await session.run(feeds);
  const outputs: Record<string, TensorData> = {};
  for (const [name, tensor] of Object.entries(results)) {
    outputs[name] = { data: tensor.data as Float32Array, dims: [...tensor.dims] };
  }
  return decodePredictions(manifest, outputs, records.length);
};
