import { ImageDecodeError, decodeImage, imageBytesOf, writeImageTensor } from './images';
import type { ImageInput } from '../../../lib/models/manifest';

export interface ImageBatchTask {
  input: ImageInput;
  /** Each record's image field: base64 or a base64 data URL. */
  images: string[];
}

export interface ImageBatchResult {
  /** `[images.length, 3, height, width]`; a failed image's block is zeros. */
  data: Float32Array;
  /** Why each image could not be read, or null. */
  failures: (string | null)[];
}

/**
 * Decodes and preprocesses a batch of images into one NCHW tensor. Plain data in, plain data out,
 * so that it runs the same on the main thread or in a preprocessing thread. With `into` (large
 * enough), the tensor is written at its start, a view of it returned: a caller that is done with
 * each batch before encoding the next saves allocating (and collecting) megabytes a batch.
 */
export const encodeImageBatch = (
  { input, images }: ImageBatchTask,
  into?: Float32Array,
): ImageBatchResult => {
  const [, , height, width] = input.shape;
  const block = 3 * height * width;
  const size = images.length * block;
  const data = into && into.length >= size ? into.subarray(0, size) : new Float32Array(size);
  const failures = images.map((value, i) => {
    try {
      writeImageTensor(decodeImage(imageBytesOf(value)), input, data, i * block);
      return null;
    } catch (error) {
      data.fill(0, i * block, (i + 1) * block);
      if (error instanceof ImageDecodeError) return error.message;
      return `The image cannot be decoded: ${(error as Error).message}`;
    }
  });
  return { data, failures };
};
