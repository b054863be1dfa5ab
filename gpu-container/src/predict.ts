import * as ort from 'onnxruntime-node';
import { isImageInput } from '../../lib/models/manifest';
import type { ModelManifest } from '../../lib/models/manifest';
import type { Prediction } from '../../lib/models/tensors';
import type { EncodedBatch } from './model-inputs';
import { decodePredictions, featureWidth } from './tensors';
import type { TensorData } from './tensors';

/** `data` as `rows` rows: zeros appended (the shape's other dimensions stay). */
const padRows = ({ data, dims }: TensorData, rows: number): TensorData => {
  const count = dims[0] ?? 0;
  if (rows <= count) return { data, dims };
  const padded = new Float32Array((data.length / count) * rows);
  padded.set(data);
  return { data: padded, dims: [rows, ...dims.slice(1)] };
};

/** The first `rows` rows of an output. */
const firstRows = ({ data, dims }: TensorData, rows: number): TensorData => {
  const count = dims[0] ?? 0;
  if (rows >= count) return { data, dims };
  return { data: data.subarray(0, (data.length / count) * rows), dims: [rows, ...dims.slice(1)] };
};

/**
 * One inference call: encoded tensors → ONNX Runtime → one prediction per record. With `padTo`,
 * a shorter batch (a shard's last) runs padded to that many rows, so that the session only ever
 * sees one input shape: under CUDA each new shape costs a cuDNN algorithm search.
 */
export const predict = async (
  session: ort.InferenceSession,
  manifest: ModelManifest,
  batch: EncodedBatch,
  alphabet?: readonly string[],
  padTo = 0,
): Promise<Prediction[]> => {
  const feeds = Object.fromEntries(
    Object.entries(batch.feeds).map(([name, tensor]) => {
      const { data, dims } = padRows(tensor, padTo);
      return [name, new ort.Tensor('float32', data, dims)];
    }),
  );
  const results = await session.run(feeds);
  const outputs: Record<string, TensorData> = {};
  for (const [name, tensor] of Object.entries(results)) {
    outputs[name] = firstRows({ data: tensor.data as Float32Array, dims: [...tensor.dims] }, batch.count);
  }
  return decodePredictions(manifest, outputs, batch.count, alphabet);
};

/** Runs one batch of zeros of the shape the shard will use, so that the first real batch does not pay for the first run. */
export const warmUp = async (session: ort.InferenceSession, manifest: ModelManifest, batchSize: number) => {
  const feeds = Object.fromEntries(
    manifest.inputs.map((input) => {
      const dims = isImageInput(input)
        ? [batchSize, 3, input.shape[2], input.shape[3]]
        : [batchSize, featureWidth(manifest)];
      const size = dims.reduce((a, b) => a * b, 1);
      return [input.name, new ort.Tensor('float32', new Float32Array(size), dims)];
    }),
  );
  await session.run(feeds);
};
