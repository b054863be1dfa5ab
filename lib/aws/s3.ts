import {
  AbortMultipartUploadCommand,
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
  UploadPartCopyCommand,
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
import { ObjectNotFound, ObjectTooLarge } from '../ports/object-store';
import type { ObjectBody, ObjectInfo, ObjectStore, UploadedPart } from '../ports/object-store';
import { logger } from '../logger';

/** S3 quotes ETags (`"9b2c…"`); outputs carry them bare. */
const unquoted = (etag: string) => etag.replace(/^"|"$/g, '');

export class S3ObjectStore implements ObjectStore {
  constructor(private readonly client: () => S3Client = s3Client.get) {}

  async putText({ bucket, key }: S3Location, body: string, contentType: string) {
    await this.client().send(
      // The length said outright: the SDK takes an empty body's for unknown, and warns on each.
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        ContentLength: Buffer.byteLength(body),
      }),
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

  async readObject({ bucket, key }: S3Location, maxBytes = Infinity): Promise<ObjectBody> {
    let response;
    try {
      response = await this.client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if (error instanceof NoSuchKey) throw new ObjectNotFound(`s3://${bucket}/${key} does not exist`);
      throw error;
    }
    const { Body, ETag, ContentType, ContentLength } = response;
    if (ContentLength !== undefined && ContentLength > maxBytes) {
      (Body as Readable | undefined)?.destroy();
      throw new ObjectTooLarge(ContentLength, maxBytes);
    }
    const body = Buffer.from((await Body?.transformToByteArray()) ?? []);
    return {
      body,
      ...(ETag ? { etag: unquoted(ETag) } : {}),
      ...(ContentType ? { contentType: ContentType } : {}),
    };
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
      return {
        key,
        size: head.ContentLength ?? 0,
        contentType: head.ContentType,
        ...(head.ETag ? { etag: unquoted(head.ETag) } : {}),
      };
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
        if (object.Key)
          yield {
            key: object.Key,
            size: object.Size ?? 0,
            ...(object.ETag ? { etag: unquoted(object.ETag) } : {}),
          };
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

  /** Set when the store answered an UploadPartCopy without copying (an emulator that lacks it). */
  private partCopyMissing = false;

  /** Whether parts are still copied by the store itself (no UploadPartCopy has come back empty). */
  get copiesPartsInStore(): boolean {
    return !this.partCopyMissing;
  }

  async startMultipart({ bucket, key }: S3Location, contentType: string) {
    const { UploadId } = await this.client().send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }),
    );
    if (!UploadId) throw new Error(`S3 gave no upload id for s3://${bucket}/${key}`);
    return UploadId;
  }

  async uploadPart({ bucket, key }: S3Location, uploadId: string, partNumber: number, body: Buffer) {
    const { ETag } = await this.client().send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: body,
      }),
    );
    if (!ETag) throw new Error(`S3 gave no ETag for part ${partNumber} of s3://${bucket}/${key}`);
    return ETag;
  }

  /**
   * UploadPartCopy: S3 copies the range itself. A store that answers without a CopyPartResult
   * (or fails the request outright, as an emulator without the operation does) did not copy; the
   * range is then read and sent as the part, and later parts go that way at once.
   */
  async copyPart(
    location: S3Location,
    uploadId: string,
    partNumber: number,
    source: S3Location,
    start: number,
    end: number,
  ) {
    if (!this.partCopyMissing) {
      try {
        const { CopyPartResult } = await this.client().send(
          new UploadPartCopyCommand({
            Bucket: location.bucket,
            Key: location.key,
            UploadId: uploadId,
            PartNumber: partNumber,
            CopySource: `${source.bucket}/${encodeURIComponent(source.key).replace(/%2F/g, '/')}`,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        if (CopyPartResult?.ETag) return CopyPartResult.ETag;
      } catch (error) {
        if (!endpointLacksPartCopy(error)) throw error;
      }
      this.partCopyMissing = true;
      logger.warn('This S3 does not copy parts (UploadPartCopy); joining outputs by reading them instead');
    }
    const body = await this.openRange(source, start, end);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
    return this.uploadPart(location, uploadId, partNumber, Buffer.concat(chunks));
  }

  async completeMultipart({ bucket, key }: S3Location, uploadId: string, parts: readonly UploadedPart[]) {
    await this.client().send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
      }),
    );
  }

  async abortMultipart({ bucket, key }: S3Location, uploadId: string) {
    await this.client().send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
    );
  }
}

/**
 * Whether an UploadPartCopy failed because the store lacks it: NotImplemented (501), or, from a
 * local emulator (an endpoint override), a server error. Real S3 errors (access, a missing
 * source) are thrown as they are.
 */
const endpointLacksPartCopy = (error: unknown): boolean => {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (name === 'NotImplemented' || $metadata?.httpStatusCode === 501) return true;
  const emulated = Boolean(process.env.AWS_ENDPOINT_URL || process.env.AWS_ENDPOINT_URL_S3);
  return emulated && ($metadata?.httpStatusCode ?? 0) >= 500;
};

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
