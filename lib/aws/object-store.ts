import { GetObjectCommand, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { s3Client } from './clients';
import { parseS3Uri } from './s3-uri';
import type { S3Location } from './s3-uri';

export class ObjectNotFound extends Error {
  override name = 'ObjectNotFound';
}

export interface ObjectStore {
  putText(location: S3Location, body: string, contentType: string): Promise<void>;
  /** The object's body as a stream; throws `ObjectNotFound` when there is none. */
  openRead(location: S3Location): Promise<Readable>;
  readJson<T>(location: S3Location): Promise<T | undefined>;
  /** Streams `body` into the object with a multipart upload, whatever its length. */
  upload(location: S3Location, body: Readable, contentType: string): Promise<void>;
}

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
    }).done();
  }
}

export const locationOf = (uri: string): S3Location => {
  const location = parseS3Uri(uri);
  if (!location) throw new Error(`Not an S3 URI: ${uri}`);
  return location;
};
