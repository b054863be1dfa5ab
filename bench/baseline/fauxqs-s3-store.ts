import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of fauxqs's S3Store this runtime relies on (the class is not exported by the package). */
export interface S3ObjectRecord {
  key: string;
  body: Buffer;
  contentType: string;
  contentLength: number;
  etag: string;
  lastModified: Date;
  metadata: Record<string, string>;
}

export interface S3StoreLike {
  createBucket(name: string): void;
  deleteBucket(name: string): void;
  putObject(
    bucket: string,
    key: string,
    body: Buffer,
    contentType?: string,
    metadata?: Record<string, string>,
  ): S3ObjectRecord;
  deleteObject(bucket: string, key: string): void;
  completeMultipartUpload(
    uploadId: string,
    partSpecs: { partNumber: number; etag: string }[],
  ): S3ObjectRecord;
  emptyBucket(name: string): void;
  clearObjects(): void;
  purgeAll(): void;
}

type S3StoreClass = new () => S3StoreLike;

export type ObjectCreatedListener = (event: {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  /** `Put` or `CompleteMultipartUpload`, as in S3's `ObjectCreated:*` event names. */
  how: 'Put' | 'CompleteMultipartUpload';
}) => void;

const fileNameOf = (key: string) => createHash('sha256').update(key).digest('hex');

/**
 * The local S3 before local/s3, kept only as the bench's baseline (bench/s3-stores.ts).
 * fauxqs keeps objects in memory only; `npm start` must keep results across restarts. This
 * subclass writes every object through to `<dir>/<bucket>/` and loads them back at start, and
 * reports each created object, which is how the local runtime raises S3 notifications
 * (the emulators deliver none).
 */
export const persistentS3StoreClass = (Base: S3StoreClass) =>
  class PersistentS3Store extends Base {
    private objectCreatedListeners: ObjectCreatedListener[] = [];
    private loading = false;

    constructor(private readonly dir: string) {
      super();
      mkdirSync(dir, { recursive: true });
      this.loading = true;
      try {
        for (const bucket of readdirSync(dir)) this.loadBucket(bucket);
      } finally {
        this.loading = false;
      }
    }

    onObjectCreated(listener: ObjectCreatedListener) {
      this.objectCreatedListeners.push(listener);
    }

    private loadBucket(bucket: string) {
      super.createBucket(bucket);
      const folder = join(this.dir, bucket);
      for (const entry of readdirSync(folder).filter((name) => name.endsWith('.json'))) {
        const meta = JSON.parse(readFileSync(join(folder, entry), 'utf8')) as Omit<S3ObjectRecord, 'body'>;
        const body = readFileSync(join(folder, entry.replace(/\.json$/, '.bin')));
        const stored = super.putObject(bucket, meta.key, body, meta.contentType, meta.metadata);
        stored.lastModified = new Date(meta.lastModified);
        stored.etag = meta.etag;
      }
    }

    private persist(bucket: string, object: S3ObjectRecord, how: 'Put' | 'CompleteMultipartUpload' = 'Put') {
      const folder = join(this.dir, bucket);
      mkdirSync(folder, { recursive: true });
      const name = fileNameOf(object.key);
      writeFileSync(join(folder, `${name}.bin`), object.body);
      const { body: _body, ...meta } = object;
      writeFileSync(join(folder, `${name}.json`), JSON.stringify(meta));
      if (!this.loading) {
        for (const listener of this.objectCreatedListeners) {
          listener({ bucket, key: object.key, size: object.contentLength, etag: object.etag, how });
        }
      }
    }

    override createBucket(name: string) {
      super.createBucket(name);
      mkdirSync(join(this.dir, name), { recursive: true });
    }

    override deleteBucket(name: string) {
      super.deleteBucket(name);
      rmSync(join(this.dir, name), { recursive: true, force: true });
    }

    override putObject(
      bucket: string,
      key: string,
      body: Buffer,
      contentType?: string,
      metadata?: Record<string, string>,
    ) {
      const object = super.putObject(bucket, key, body, contentType, metadata);
      if (!this.loading) this.persist(bucket, object);
      return object;
    }

    override deleteObject(bucket: string, key: string) {
      super.deleteObject(bucket, key);
      const name = fileNameOf(key);
      rmSync(join(this.dir, bucket, `${name}.bin`), { force: true });
      rmSync(join(this.dir, bucket, `${name}.json`), { force: true });
    }

    override completeMultipartUpload(uploadId: string, partSpecs: { partNumber: number; etag: string }[]) {
      const bucket = this.bucketOfUpload(uploadId);
      const object = super.completeMultipartUpload(uploadId, partSpecs);
      if (bucket) this.persist(bucket, object, 'CompleteMultipartUpload');
      return object;
    }

    private bucketOfUpload(uploadId: string): string | undefined {
      const uploads = (this as unknown as { multipartUploads: Map<string, { bucket: string }> })
        .multipartUploads;
      return uploads.get(uploadId)?.bucket;
    }

    override emptyBucket(name: string) {
      super.emptyBucket(name);
      if (existsSync(join(this.dir, name))) {
        rmSync(join(this.dir, name), { recursive: true, force: true });
        mkdirSync(join(this.dir, name), { recursive: true });
      }
    }

    override clearObjects() {
      super.clearObjects();
      for (const bucket of readdirSync(this.dir)) this.emptyBucket(bucket);
    }

    override purgeAll() {
      super.purgeAll();
      rmSync(this.dir, { recursive: true, force: true });
      mkdirSync(this.dir, { recursive: true });
    }
  };
