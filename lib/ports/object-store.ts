import type { Readable } from 'node:stream';
import type { S3Location } from '../domain/s3-location';

export class ObjectNotFound extends Error {
  override name = 'ObjectNotFound';
}

/** An object larger than a reader would hold in memory: refused before its body is read. */
export class ObjectTooLarge extends Error {
  override name = 'ObjectTooLarge';
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`The object is ${size} bytes; at most ${limit} are read.`);
  }
}

export interface ObjectInfo {
  key: string;
  size: number;
  contentType?: string;
  /** S3's ETag, quotes removed: listings and HEAD carry it. */
  etag?: string;
}

/** A whole object read into memory, with what identifies the version read. */
export interface ObjectBody {
  body: Buffer;
  etag?: string;
  contentType?: string;
}

/** Inputs, plans, shard outputs and reports: objects addressed by bucket and key. */
export interface ObjectStore {
  putText(location: S3Location, body: string, contentType: string): Promise<void>;
  /** The object's body as a stream; throws `ObjectNotFound` when there is none. */
  openRead(location: S3Location): Promise<Readable>;
  /**
   * The whole object in memory (for objects that are one record each); throws `ObjectNotFound`,
   * or `ObjectTooLarge` (reading nothing of its body) when it is over `maxBytes`.
   */
  readObject(location: S3Location, maxBytes?: number): Promise<ObjectBody>;
  /** Bytes `start` to `end` (inclusive) of the object. */
  openRange(location: S3Location, start: number, end: number): Promise<Readable>;
  /** Size and content type, or undefined when there is no such object. */
  head(location: S3Location): Promise<ObjectInfo | undefined>;
  /** Every object under the prefix, in key order. */
  list(bucket: string, prefix: string): AsyncIterable<ObjectInfo>;
  readJson<T>(location: S3Location): Promise<T | undefined>;
  /** Streams `body` into the object with a multipart upload, whatever its length. */
  upload(location: S3Location, body: Readable, contentType: string): Promise<void>;
  /**
   * A multipart upload whose parts are sent bytes or byte ranges of other objects copied by the
   * store itself (S3 UploadPartCopy): how assembly joins shard outputs without reading them.
   */
  startMultipart(location: S3Location, contentType: string): Promise<string>;
  uploadPart(location: S3Location, uploadId: string, partNumber: number, body: Buffer): Promise<string>;
  /** Copies bytes `start` to `end` (inclusive) of `source` as a part; returns its ETag. */
  copyPart(
    location: S3Location,
    uploadId: string,
    partNumber: number,
    source: S3Location,
    start: number,
    end: number,
  ): Promise<string>;
  completeMultipart(location: S3Location, uploadId: string, parts: readonly UploadedPart[]): Promise<void>;
  abortMultipart(location: S3Location, uploadId: string): Promise<void>;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/** S3's limits on multipart parts: all but the last at least 5 MiB, none above 5 GiB. */
export const minPartBytes = 5 * 1024 * 1024;
export const maxPartBytes = 5 * 1024 * 1024 * 1024;
