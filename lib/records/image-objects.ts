/**
 * Objects that are one record each: images, told by their content type (the job's option or
 * the object's own) or, where neither names an image, by the key's extension. The worker tells
 * the actual format from the first bytes; this only decides how a job reads its input.
 */

/** What `contentType` may say of a job whose objects are images (SageMaker's `application/x-image` too). */
export const imageContentTypes = [
  'image/png',
  'image/jpeg',
  'image/webp',
  'image/tiff',
  'application/x-image',
] as const;

const imageExtensions = new Set(['png', 'jpg', 'jpeg', 'webp', 'tif', 'tiff']);

/** Extensions of record files (JSON Lines, CSV): a folder holding one is read as lines, not objects. */
const lineFileExtensions = new Set(['jsonl', 'ndjson', 'json', 'csv', 'gz']);

const extensionOf = (key: string) => {
  const name = key.slice(key.lastIndexOf('/') + 1).toLowerCase();
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1) : '';
};

const mediaTypeOf = (contentType: string | undefined) =>
  contentType?.split(';', 1)[0]?.trim().toLowerCase() ?? '';

export const isImageContentType = (contentType: string | undefined) => {
  const type = mediaTypeOf(contentType);
  return type.startsWith('image/') || type === 'application/x-image';
};

/** An image by its content type, or by its extension when the type is absent or generic. */
export const isImageObject = (contentType: string | undefined, key: string) =>
  isImageContentType(contentType) || imageExtensions.has(extensionOf(key));

/** A file of records (JSON Lines, CSV, compressed), by its extension. */
export const isLineFileKey = (key: string) => lineFileExtensions.has(extensionOf(key));
