import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { intEnv } from '../config';
import { s3Client } from './clients';
import { locationOf } from '../domain/s3-location';
import type { S3Location } from '../domain/s3-location';
import type { CompletedPart, FileUpload, ModelArtifacts } from '../ports/model-registry';
import { ObjectNotFound } from '../ports/object-store';
import type { ObjectInfo, ObjectStore } from '../ports/object-store';

export class S3ObjectStore implements ObjectStore {
  constructor(private readonly client: () => S3Client = s3Client.get) {}

  async putText({ bucket, key }: S3Location, body: string, contentType: string) {
    await this.client().send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  async openRead({ bucket, key }: S3Location): Promise<Readable> {
    try {
      const { Body } = await this.client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Body as Readable;
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchBucket') {
        throw new ObjectNotFound(`s3://${bucket}/${key} does not exist`);
      }
      throw error;
    }
  }

  async openRange({ bucket, key }: S3Location, start: number, end: number): Promise<Readable> {
    try {
      const { Body } = await this.client().send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}` }),
      );
      return Body as Readable;
    } catch (error) {
      if (error instanceof NoSuchKey) throw new ObjectNotFound(`s3://${bucket}/${key} does not exist`);
      throw error;
    }
  }

  async head({ bucket, key }: S3Location): Promise<ObjectInfo | undefined> {
    try {
      const head = await this.client().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { key, size: head.ContentLength ?? 0, contentType: head.ContentType };
    } catch (error) {
      if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') return undefined;
      throw error;
    }
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      const page = await this.client().send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key) yield { key: object.Key, size: object.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async readJson<T>(location: S3Location): Promise<T | undefined> {
    try {
      const body = await this.openRead(location);
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
    } catch (error) {
      if (error instanceof ObjectNotFound) return undefined;
      throw error;
    }
  }

  async upload({ bucket, key }: S3Location, body: Readable, contentType: string) {
    await new Upload({
      client: this.client(),
      params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType },
      // One 5 MiB part uploading while the next fills: a worker writes far slower than S3 takes
      // a part, and each part queued is 5 MiB more of resident memory.
      queueSize: 1,
    }).done();
  }
}

const mib = 1024 ** 2;

/**
 * Files above LONGTAIL_MODEL_SINGLE_PUT_MB (100) go up in parts of LONGTAIL_MODEL_PART_MB (64,
 * more when 10,000 parts would not hold the file): faster on a fast link, and a lost connection
 * loses one part.
 */
const uploadSizes = () => ({
  multipartFromBytes: intEnv('LONGTAIL_MODEL_SINGLE_PUT_MB', 100) * mib,
  minPartBytes: Math.max(5, intEnv('LONGTAIL_MODEL_PART_MB', 64)) * mib,
});
/** Long enough to push a large file over a slow link; the version is re-registered otherwise. */
const uploadUrlSeconds = 6 * 3600;

/** Model files in the models bucket: presigned uploads, so that no byte passes through the API. */
export class S3ModelArtifacts implements ModelArtifacts {
  constructor(private readonly client: () => S3Client = s3Client.get) {}

  async uploadsFor(location: string, files: readonly { name: string; sha256: string; size: number }[]) {
    const prefix = locationOf(location);
    const { multipartFromBytes, minPartBytes } = uploadSizes();
    const uploads: FileUpload[] = [];
    for (const file of files) {
      const key = `${prefix.key}${file.name}`;
      if (file.size <= multipartFromBytes) {
        const checksum = Buffer.from(file.sha256, 'hex').toString('base64');
        const url = await getSignedUrl(
          this.client(),
          new PutObjectCommand({ Bucket: prefix.bucket, Key: key, ChecksumSHA256: checksum }),
          { expiresIn: uploadUrlSeconds, unhoistableHeaders: new Set(['x-amz-checksum-sha256']) },
        );
        uploads.push({ name: file.name, url, headers: { 'x-amz-checksum-sha256': checksum } });
        continue;
      }
      const partSize = Math.max(minPartBytes, Math.ceil(file.size / 10_000));
      const { UploadId } = await this.client().send(
        new CreateMultipartUploadCommand({ Bucket: prefix.bucket, Key: key }),
      );
      if (!UploadId) throw new Error(`S3 gave no upload id for ${key}`);
      const parts = [];
      for (let partNumber = 1; (partNumber - 1) * partSize < file.size; partNumber++) {
        const url = await getSignedUrl(
          this.client(),
          new UploadPartCommand({ Bucket: prefix.bucket, Key: key, UploadId, PartNumber: partNumber }),
          { expiresIn: uploadUrlSeconds },
        );
        parts.push({ partNumber, url });
      }
      uploads.push({ name: file.name, multipart: { uploadId: UploadId, partSize, parts } });
    }
    return uploads;
  }

  async completeMultipart(location: string, file: string, uploadId: string, parts: CompletedPart[]) {
    const prefix = locationOf(location);
    await this.client().send(
      new CompleteMultipartUploadCommand({
        Bucket: prefix.bucket,
        Key: `${prefix.key}${file}`,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: [...parts]
            .sort((a, b) => a.partNumber - b.partNumber)
            .map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })),
        },
      }),
    );
  }

  async sizes(location: string) {
    const prefix = locationOf(location);
    const sizes = new Map<string, number>();
    for await (const object of new S3ObjectStore(this.client).list(prefix.bucket, prefix.key)) {
      sizes.set(object.key.slice(prefix.key.length), object.size);
    }
    return sizes;
  }

  async deleteAll(location: string) {
    const prefix = locationOf(location);
    const keys = [...(await this.sizes(location)).keys()].map((name) => ({ Key: `${prefix.key}${name}` }));
    for (let i = 0; i < keys.length; i += 1000) {
      await this.client().send(
        new DeleteObjectsCommand({ Bucket: prefix.bucket, Delete: { Objects: keys.slice(i, i + 1000) } }),
      );
    }
  }
}
