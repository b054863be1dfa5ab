import { Readable } from 'node:stream';
import { ObjectNotFound, ObjectTooLarge, maxPartBytes, minPartBytes } from '../../lib/ports/object-store';
import type { ObjectBody, ObjectInfo, ObjectStore, UploadedPart } from '../../lib/ports/object-store';
import type { S3Location } from '../../lib/domain/s3-location';

/** An object whose bytes are computed on demand: any range of a terabyte, without holding it. */
export interface GeneratedObject {
  size: number;
  contentType?: string;
  /** Bytes [start, end) of the object. */
  bytes(start: number, end: number): Buffer;
}

/** Objects made by a stored body (small ones) or by generators (huge ones). */
type Stored = GeneratedObject | { size: number; contentType?: string; body: Buffer };

const bytesOf = (object: Stored, start: number, end: number) =>
  'body' in object ? object.body.subarray(start, end) : object.bytes(start, end);

/** What a multipart upload was given: part sizes only, so that a terabyte result fits in memory. */
interface PendingUpload {
  target: string;
  contentType: string;
  parts: Map<number, { size: number }>;
}

/** A result assembled from parts: its size and how it was made, not its bytes. */
export interface AssembledObject {
  size: number;
  parts: number[];
}

/**
 * An ObjectStore over generated objects, counting what its callers cost: requests (one a call,
 * one a page of 1,000 for listings) and bytes served. Ranged reads come in 64 KiB chunks, as a
 * socket would deliver them, and only the chunks a reader takes are counted.
 */
export class GeneratedObjectStore implements ObjectStore {
  readonly objects = new Map<string, Stored>();
  readonly assembled = new Map<string, AssembledObject>();
  requests = 0;
  bytesRead = 0;
  private uploads = new Map<string, PendingUpload>();
  private nextUpload = 0;

  private static id({ bucket, key }: S3Location) {
    return `${bucket}/${key}`;
  }

  add(location: S3Location, object: GeneratedObject | { body: Buffer; contentType?: string }) {
    const stored: Stored = 'body' in object ? { ...object, size: object.body.length } : object;
    this.objects.set(GeneratedObjectStore.id(location), stored);
  }

  resetCounts() {
    this.requests = 0;
    this.bytesRead = 0;
  }

  private find(location: S3Location): Stored {
    const found = this.objects.get(GeneratedObjectStore.id(location));
    if (!found) throw new ObjectNotFound(`s3://${location.bucket}/${location.key} does not exist`);
    return found;
  }

  private *chunks(object: Stored, start: number, end: number): Generator<Buffer> {
    const step = 64 * 1024;
    for (let at = start; at < end; at += step) {
      const chunk = bytesOf(object, at, Math.min(end, at + step));
      this.bytesRead += chunk.length;
      yield chunk;
    }
  }

  private stream(object: Stored, start: number, end: number): Readable {
    return Readable.from(this.chunks(object, start, end));
  }

  async putText(location: S3Location, body: string, contentType: string) {
    this.requests++;
    this.add(location, { body: Buffer.from(body), contentType });
  }

  async openRead(location: S3Location): Promise<Readable> {
    this.requests++;
    const object = this.find(location);
    return this.stream(object, 0, object.size);
  }

  async readObject(location: S3Location, maxBytes = Infinity): Promise<ObjectBody> {
    this.requests++;
    const object = this.find(location);
    if (object.size > maxBytes) throw new ObjectTooLarge(object.size, maxBytes);
    const body = Buffer.concat([...this.chunks(object, 0, object.size)]);
    return { body, ...(object.contentType ? { contentType: object.contentType } : {}) };
  }

  async openRange(location: S3Location, start: number, end: number): Promise<Readable> {
    this.requests++;
    const object = this.find(location);
    if (start < 0 || end < start || start >= object.size) throw new Error(`Bad range ${start}-${end}`);
    return this.stream(object, start, Math.min(object.size, end + 1));
  }

  async head(location: S3Location): Promise<ObjectInfo | undefined> {
    this.requests++;
    const found = this.objects.get(GeneratedObjectStore.id(location));
    return found ? { key: location.key, size: found.size, contentType: found.contentType } : undefined;
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    const keys = [...this.objects.keys()]
      .filter((id) => id.startsWith(`${bucket}/${prefix}`))
      .sort()
      .map((id) => id.slice(bucket.length + 1));
    for (let i = 0; i < keys.length; i++) {
      if (i % 1000 === 0) this.requests++;
      yield { key: keys[i]!, size: this.find({ bucket, key: keys[i]! }).size };
    }
    if (keys.length === 0) this.requests++;
  }

  async readJson<T>(location: S3Location): Promise<T | undefined> {
    this.requests++;
    const found = this.objects.get(GeneratedObjectStore.id(location));
    return found ? (JSON.parse(bytesOf(found, 0, found.size).toString('utf8')) as T) : undefined;
  }

  async upload(location: S3Location, body: Readable, contentType: string) {
    this.requests++;
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
    this.add(location, { body: Buffer.concat(chunks), contentType });
  }

  async startMultipart(location: S3Location, contentType: string) {
    this.requests++;
    const id = `upload-${++this.nextUpload}`;
    this.uploads.set(id, { target: GeneratedObjectStore.id(location), contentType, parts: new Map() });
    return id;
  }

  private pending(location: S3Location, uploadId: string) {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.target !== GeneratedObjectStore.id(location))
      throw new Error(`No upload ${uploadId}`);
    return upload;
  }

  async uploadPart(location: S3Location, uploadId: string, partNumber: number, body: Buffer) {
    this.requests++;
    this.pending(location, uploadId).parts.set(partNumber, { size: body.length });
    return `etag-${partNumber}`;
  }

  async copyPart(
    location: S3Location,
    uploadId: string,
    partNumber: number,
    source: S3Location,
    start: number,
    end: number,
  ) {
    this.requests++;
    const object = this.find(source);
    if (start < 0 || end >= object.size || end < start) throw new Error(`Bad copy range ${start}-${end}`);
    this.pending(location, uploadId).parts.set(partNumber, { size: end - start + 1 });
    return `etag-${partNumber}`;
  }

  /** Checks S3's rules: parts numbered 1…n, each 5 MiB to 5 GiB but the last, at most 10,000. */
  async completeMultipart(location: S3Location, uploadId: string, parts: readonly UploadedPart[]) {
    this.requests++;
    const upload = this.pending(location, uploadId);
    if (parts.length === 0 || parts.length > 10_000) throw new Error(`${parts.length} parts`);
    const sizes = parts.map(({ partNumber }, i) => {
      if (partNumber !== i + 1) throw new Error(`Part ${partNumber} out of order`);
      const part = upload.parts.get(partNumber);
      if (!part) throw new Error(`No part ${partNumber}`);
      if (part.size > maxPartBytes) throw new Error(`Part ${partNumber} is over 5 GiB`);
      if (i < parts.length - 1 && part.size < minPartBytes)
        throw new Error(`Part ${partNumber} is under 5 MiB`);
      return part.size;
    });
    this.uploads.delete(uploadId);
    this.assembled.set(GeneratedObjectStore.id(location), {
      size: sizes.reduce((sum, size) => sum + size, 0),
      parts: sizes,
    });
  }

  async abortMultipart(location: S3Location, uploadId: string) {
    this.requests++;
    this.pending(location, uploadId);
    this.uploads.delete(uploadId);
  }

  /** The size of an object written whole (putText) or assembled from parts. */
  sizeOf(location: S3Location): number | undefined {
    const id = GeneratedObjectStore.id(location);
    return this.assembled.get(id)?.size ?? this.objects.get(id)?.size;
  }
}
