import { z } from 'zod';

/** How large an image the worker reads, and how it reads it (see decodeImage). */
export interface ImageLimits {
  /** Beyond this many pixels (by the file's header) a record fails with OBJECT_TOO_LARGE. */
  maxPixels: number;
  /**
   * Up to this many pixels an image is decoded whole, then scaled; beyond, it is resized to the
   * model's size as it is read. This bounds the decode buffer of each decoding thread: 4 megapixels
   * are 12 MB of RGB (16 MB with alpha), held once more by the scaling kernel's memory.
   */
  decodeWholePixels: number;
}

/**
 * 250 megapixels: a 60-megapixel scan (A3 at 600 dpi is about 70) is read with room to spare,
 * and a file whose header claims a gigapixel (a PNG bomb is a few kilobytes) is refused unread.
 */
export const defaultMaxImagePixels = 250_000_000;
export const defaultDecodeWholePixels = 4_000_000;

/** The worker's image setting, part of its settings (settings.ts) and read by every decoding thread. */
export const imageSettingsSchema = {
  /** Images with more pixels than this fail with OBJECT_TOO_LARGE, before they are decoded. */
  LONGTAIL_MAX_IMAGE_PIXELS: z.coerce.number().int().min(1).default(defaultMaxImagePixels),
};

const schema = z.object(imageSettingsSchema);

/**
 * The limits from the environment: read where images are decoded (threads share the process's
 * environment), so that no caller has to carry them. An invalid value fails the worker at start,
 * where settings.ts reads the same variable.
 */
export const imageLimitsFromEnv = (env: NodeJS.ProcessEnv = process.env): ImageLimits => {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new Error(`LONGTAIL_MAX_IMAGE_PIXELS is not valid: ${result.error.issues[0]?.message}`);
  }
  const maxPixels = result.data.LONGTAIL_MAX_IMAGE_PIXELS;
  return { maxPixels, decodeWholePixels: Math.min(defaultDecodeWholePixels, maxPixels) };
};
