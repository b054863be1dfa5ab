import {
  ImageDecodeError,
  decodeImage,
  imageBytesOf,
  imageErrorCodes,
  imageTargetOf,
  writeImageTensor,
} from './images';
import type { ImageErrorCode } from './images';
import { imageLimitsFromEnv } from './image-limits';
import type { ImageLimits } from './image-limits';
import type { ImageInput } from '../../../lib/models/manifest';

export interface ImageBatchTask {
  input: ImageInput;
  /** Each record's image field: base64 or a base64 data URL, or an object's bytes. */
  images: (string | Uint8Array)[];
  /** Unset: from the environment (LONGTAIL_MAX_IMAGE_PIXELS). */
  limits?: ImageLimits;
}

/** Why a record's image could not be used: the record fails with this code, not its batch. */
export interface ImageFailure {
  code: ImageErrorCode;
  message: string;
}

export interface ImageBatchResult {
  /** `[images.length, 3, height, width]`; a failed image's block is zeros. */
  data: Float32Array;
  /** Why each image could not be read, or null. */
  failures: (ImageFailure | null)[];
}

const failureOf = (error: unknown): ImageFailure =>
  error instanceof ImageDecodeError
    ? { code: error.code, message: error.message }
    : { code: imageErrorCodes.invalid, message: `The image cannot be decoded: ${(error as Error).message}` };

/**
 * Decodes and preprocesses a batch of images into one NCHW tensor. Plain data in, plain data out,
 * so that it runs the same on the main thread or in a preprocessing thread. With `into` (large
 * enough), the tensor is written at its start, a view of it returned: a caller that is done with
 * each batch before encoding the next saves allocating (and collecting) megabytes a batch.
 *
 * One image at a time: at most one decode buffer (bounded, see ImageLimits) is alive per thread,
 * and the threads (or lanes) are what decode side by side.
 */
export const encodeImageBatch = async (
  { input, images, limits = imageLimitsFromEnv() }: ImageBatchTask,
  into?: Float32Array,
): Promise<ImageBatchResult> => {
  const [, , height, width] = input.shape;
  const block = 3 * height * width;
  const size = images.length * block;
  const data = into && into.length >= size ? into.subarray(0, size) : new Float32Array(size);
  const target = imageTargetOf(input);
  const failures: (ImageFailure | null)[] = [];
  for (const [i, value] of images.entries()) {
    try {
      writeImageTensor(await decodeImage(imageBytesOf(value), target, limits), input, data, i * block);
      failures.push(null);
    } catch (error) {
      data.fill(0, i * block, (i + 1) * block);
      failures.push(failureOf(error));
    }
  }
  return { data, failures };
};
