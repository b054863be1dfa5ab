import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { s3Client } from './clients';
import type { S3Location } from '../domain/s3-location';
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
