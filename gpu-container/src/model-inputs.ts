import { encodeImageBatch } from './images/image-batch';
import type { ImageBatchResult, ImageBatchTask, ImageFailure } from './images/image-batch';
import { imageLimitsFromEnv } from './images/image-limits';
import { isImageInput } from '../../lib/models/manifest';
import type { ImageInput, ModelManifest } from '../../lib/models/manifest';
import type { ModelRecord } from '../../lib/models/record-schema';
import { encodeRecords } from './tensors';
import type { TensorData } from './tensors';
import { threadPool } from './thread-pool';

/** A batch of records as the model's input tensors. */
export interface EncodedBatch {
  count: number;
  feeds: Record<string, TensorData>;
  /** Why a record could not be encoded (its slot in the tensors is zeros), or null. */
  failures: (ImageFailure | null)[];
}

export interface InputEncoder {
  encode(records: ModelRecord[]): Promise<EncodedBatch>;
  close(): Promise<void>;
}

/** Feature columns cost next to nothing to encode: always on the calling thread. */
const featureEncoder = (manifest: ModelManifest): InputEncoder => ({
  encode: async (records) => ({
    count: records.length,
    feeds: encodeRecords(manifest, records),
    failures: records.map(() => null),
  }),
  close: async () => undefined,
});

const concatenated = (parts: ImageBatchResult[]) => {
  const data = new Float32Array(parts.reduce((length, part) => length + part.data.length, 0));
  let offset = 0;
  for (const part of parts) {
    data.set(part.data, offset);
    offset += part.data.length;
  }
  return data;
};

/**
 * Images: under CUDA, decoding and scaling are what the GPU waits on, so with `threads` > 0 they
 * run on a pool of threads, each batch split across them, while the calling thread runs the model
 * (onnxruntime-node's `run` holds the thread that calls it). sharp, which those threads call, is
 * loaded on this thread first (images.ts imports it, and this module imports that): on glibc Linux
 * its native library must outlive every thread that uses it, as sharp's documentation asks.
 */
const imageEncoder = (input: ImageInput, threads: number, reuseTensor: boolean): InputEncoder => {
  // Read once, here, and handed to the threads with each task.
  const limits = imageLimitsFromEnv();
  const [, , height, width] = input.shape;
  const tensorOf = (count: number, data: Float32Array): Record<string, TensorData> => ({
    [input.name]: { data, dims: [count, 3, height, width] },
  });
  const imagesOf = (records: ModelRecord[]) =>
    records.map((record) => record[input.image.field] as string | Uint8Array);
  if (threads === 0) {
    let reused: Float32Array | undefined;
    return {
      encode: async (records) => {
        const { data, failures } = await encodeImageBatch(
          { input, images: imagesOf(records), limits },
          reused,
        );
        if (reuseTensor && data.buffer !== reused?.buffer) reused = data;
        return { count: records.length, feeds: tensorOf(records.length, data), failures };
      },
      close: async () => undefined,
    };
  }
  const pool = threadPool<ImageBatchTask, ImageBatchResult>('preprocess-worker', threads);
  return {
    encode: async (records) => {
      const images = imagesOf(records);
      const chunk = Math.ceil(images.length / threads);
      const parts = await Promise.all(
        Array.from({ length: Math.ceil(images.length / chunk) }, (_, i) =>
          pool.run({ input, images: images.slice(i * chunk, (i + 1) * chunk), limits }),
        ),
      );
      const data = parts.length === 1 ? (parts[0] as ImageBatchResult).data : concatenated(parts);
      return {
        count: records.length,
        feeds: tensorOf(records.length, data),
        failures: parts.flatMap((part) => part.failures),
      };
    },
    close: () => pool.destroy(),
  };
};

export interface InputEncoderOptions {
  /** Threads that preprocess images; 0 keeps everything on the calling thread. */
  preprocessThreads: number;
  /**
   * The caller is done with each batch's tensors before it encodes the next (an inference lane):
   * images are encoded into one tensor buffer, kept and written over batch after batch.
   */
  reuseTensor?: boolean;
}

/** How records become tensors for this model. */
export const createInputEncoder = (manifest: ModelManifest, options: InputEncoderOptions): InputEncoder => {
  const [input] = manifest.inputs;
  if (!input) throw new Error(`Model ${manifest.name} declares no input tensor`);
  return isImageInput(input)
    ? imageEncoder(input, options.preprocessThreads, options.reuseTensor ?? false)
    : featureEncoder(manifest);
};
