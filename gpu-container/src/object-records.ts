import { ObjectNotFound, ObjectTooLarge } from '../../lib/ports/object-store';
import type { ObjectStore } from '../../lib/ports/object-store';
import type { ObjectListingLine, PlannedObjects } from '../../lib/domain/job-plan';
import type { DecodedRecord } from '../../lib/records/decode';
import { intEnv } from '../../lib/config';
import { outputLocationsOf } from '../../lib/domain/locations';
import { locationOf } from '../../lib/domain/s3-location';
import type { S3Location } from '../../lib/domain/s3-location';
import type { PendingRecord } from './record-admission';

/** Why one object is not a record the model can see; it fails alone, with this code. */
export const objectErrorCodes = {
  notFound: 'OBJECT_NOT_FOUND',
  tooLarge: 'OBJECT_TOO_LARGE',
  invalidImage: 'INVALID_IMAGE',
} as const;

export type FetchedObject =
  | { ok: true; record: PendingRecord }
  | { ok: false; line: number; raw: string; code: string; message: string };

export interface ObjectFetchSettings {
  objects: ObjectStore;
  planned: PlannedObjects;
  /** Objects read at once, ahead of the model. */
  concurrency: number;
  /** Bytes of objects read ahead (by their listed sizes); one object is always let through. */
  maxBytesAhead: number;
  /** A larger object fails with OBJECT_TOO_LARGE, unread. */
  maxObjectBytes: number;
}

const mib = 1024 * 1024;

/**
 * The defaults, from the environment: 16 objects and 256 MiB read ahead, objects up to 512 MiB.
 * Ahead of a GPU, 16 GETs of S3's ~20–50 ms first byte keep a lane of small images fed.
 */
export const objectFetchLimitsFromEnv = () => ({
  concurrency: intEnv('LONGTAIL_OBJECT_READ_CONCURRENCY', 16),
  maxBytesAhead: intEnv('LONGTAIL_OBJECT_READ_AHEAD_MB', 256) * mib,
  maxObjectBytes: intEnv('LONGTAIL_MAX_OBJECT_MB', 512) * mib,
});

/** One listed object read into the record its model input field holds, or why it cannot be. */
const fetchOne = async (
  listed: ObjectListingLine,
  line: number,
  raw: string,
  settings: ObjectFetchSettings,
): Promise<FetchedObject> => {
  const failed = (code: string, message: string): FetchedObject => ({ ok: false, line, raw, code, message });
  const { key } = listed;
  const tooLarge = (size: number) =>
    failed(
      objectErrorCodes.tooLarge,
      `${key} is ${size} bytes; objects are read up to ${settings.maxObjectBytes} (LONGTAIL_MAX_OBJECT_MB).`,
    );
  if (listed.size !== undefined && listed.size > settings.maxObjectBytes) return tooLarge(listed.size);
  try {
    const read = await settings.objects.readObject(
      { bucket: settings.planned.bucket, key },
      settings.maxObjectBytes,
    );
    if (read.body.length === 0) return failed(objectErrorCodes.invalidImage, `${key} is empty (0 bytes).`);
    const etag = read.etag ?? listed.etag;
    return {
      ok: true,
      record: {
        line,
        raw,
        value: { key, ...(etag ? { etag } : {}) },
        input: { [settings.planned.imageField]: read.body },
        bytes: read.body.length,
      },
    };
  } catch (error) {
    if (error instanceof ObjectNotFound)
      return failed(
        objectErrorCodes.notFound,
        `${key} no longer exists (it was listed when the job was planned).`,
      );
    if (error instanceof ObjectTooLarge) return tooLarge(error.size);
    throw error;
  }
};

/**
 * The shard's objects as records, in listing order: its listing lines decoded, and each object
 * read with up to `concurrency` reads (and `maxBytesAhead` bytes) in flight ahead of the caller,
 * so that S3's latency hides behind the model. The caller's backpressure (it stops pulling) stops
 * the reading. A read that fails for the object itself (gone, too large, empty) yields a failure;
 * any other error (S3 unreachable) is thrown, and the shard is retried.
 */
export async function* fetchListedObjects(
  listing: AsyncIterable<DecodedRecord[]>,
  settings: ObjectFetchSettings,
): AsyncGenerator<FetchedObject> {
  const ahead: { size: number; fetched: Promise<FetchedObject> }[] = [];
  let bytesAhead = 0;
  const oldest = async () => {
    const next = ahead.shift()!;
    bytesAhead -= next.size;
    return next.fetched;
  };
  for await (const chunk of listing) {
    for (const decoded of chunk) {
      if (!decoded.ok) {
        yield { ok: false, line: decoded.line, raw: decoded.raw, ...decoded.error };
        continue;
      }
      const listed = decoded.value as ObjectListingLine;
      const size = Math.min(listed.size ?? 0, settings.maxObjectBytes);
      while (
        ahead.length > 0 &&
        (ahead.length >= settings.concurrency || bytesAhead + size > settings.maxBytesAhead)
      )
        yield await oldest();
      const fetched = fetchOne(listed, decoded.line, decoded.raw, settings);
      // Awaited in order below; a rejection waits there rather than going unhandled.
      fetched.catch(() => undefined);
      ahead.push({ size, fetched });
      bytesAhead += size;
    }
  }
  while (ahead.length > 0) yield await oldest();
}

/** `objectOutputs: perObject`, SageMaker's layout: `outputs/<jobId>/<key after the prefix>.out`. */
export const perObjectLocationOf =
  (outputsBucket: string, jobId: string, planned: PlannedObjects) =>
  (value: unknown): S3Location => {
    const { key } = value as { key: string };
    const name = key.startsWith(planned.relativeTo) ? key.slice(planned.relativeTo.length) : key;
    return locationOf(outputLocationsOf(outputsBucket, jobId, name).outputUri);
  };
