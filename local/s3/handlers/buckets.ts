import { S3Error, malformedXml } from '../errors';
import { encoderFor, intParam, owner, readSmallBody, sendEmpty, sendXml } from '../http';
import type { S3Request } from '../http';
import type { ObjectRecord } from '../store';
import type { DiskS3Store } from '../store';
import { parseXml } from '../xml';

const maxKeysLimit = 1000;

export const listBuckets = async (store: DiskS3Store, { res }: S3Request) => {
  const buckets = await store.listBuckets();
  sendXml(res, 'ListAllMyBucketsResult', {
    Owner: owner,
    Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: b.created })) },
  });
};

export const createBucket = async (store: DiskS3Store, request: S3Request) => {
  await store.createBucket(request.bucket);
  sendEmpty(request.res, 200, { location: `/${request.bucket}` });
};

export const deleteBucket = async (store: DiskS3Store, request: S3Request) => {
  await store.deleteBucket(request.bucket);
  sendEmpty(request.res, 204);
};

export const headBucket = async (store: DiskS3Store, request: S3Request) => {
  await store.requireBucket(request.bucket);
  sendEmpty(request.res, 200, { 'x-amz-bucket-region': 'us-east-1' });
};

export const bucketLocation = async (store: DiskS3Store, request: S3Request) => {
  await store.requireBucket(request.bucket);
  sendXml(request.res, 'LocationConstraint', {});
};

/** The store keeps one version of each object: versioning reads as never enabled. */
export const bucketVersioning = async (store: DiskS3Store, request: S3Request) => {
  await store.requireBucket(request.bucket);
  sendXml(request.res, 'VersioningConfiguration', {});
};

const contentsOf = (
  objects: { key: string; value: ObjectRecord }[],
  encode: (text: string) => string,
  withOwner: boolean,
) =>
  objects.map(({ key, value }) => ({
    Key: encode(key),
    LastModified: value.lastModified,
    ETag: value.etag,
    Size: value.size,
    StorageClass: 'STANDARD',
    ...(withOwner ? { Owner: owner } : {}),
  }));

const listParams = (request: S3Request) => ({
  prefix: request.query.get('prefix') ?? '',
  delimiter: request.query.get('delimiter') ?? '',
  maxKeys: intParam(request, 'max-keys', maxKeysLimit, maxKeysLimit),
});

/** ListObjects (version 1): `marker` paging; NextMarker only with a delimiter, as in S3. */
export const listObjectsV1 = async (store: DiskS3Store, request: S3Request) => {
  const encode = encoderFor(request);
  const { prefix, delimiter, maxKeys } = listParams(request);
  const marker = request.query.get('marker') ?? '';
  const page = await store.list(request.bucket, { prefix, delimiter, maxKeys, after: marker });
  sendXml(request.res, 'ListBucketResult', {
    Name: request.bucket,
    // S3 encodes neither in a version 1 listing (botocore decodes neither).
    Prefix: prefix,
    Marker: marker,
    MaxKeys: maxKeys,
    ...(delimiter ? { Delimiter: encode(delimiter) } : {}),
    IsTruncated: page.truncated,
    ...(page.truncated && delimiter && page.last ? { NextMarker: encode(page.last) } : {}),
    ...(request.query.has('encoding-type') ? { EncodingType: 'url' } : {}),
    Contents: contentsOf(page.objects, encode, true),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: encode(p) })),
  });
};

const tokenOf = (last: string) => Buffer.from(last, 'utf8').toString('base64url');
const afterToken = (token: string) => {
  const after = Buffer.from(token, 'base64url').toString('utf8');
  if (tokenOf(after) !== token.replace(/=+$/, ''))
    throw new S3Error('InvalidArgument', 400, 'The continuation token provided is incorrect', {
      ArgumentName: 'continuation-token',
      ArgumentValue: token,
    });
  return after;
};

/** ListObjectsV2: the continuation token is the last key or common prefix of the page before. */
export const listObjectsV2 = async (store: DiskS3Store, request: S3Request) => {
  const encode = encoderFor(request);
  const { prefix, delimiter, maxKeys } = listParams(request);
  const token = request.query.get('continuation-token');
  const startAfter = request.query.get('start-after') ?? '';
  const after = token ? afterToken(token) : startAfter;
  const page = await store.list(request.bucket, { prefix, delimiter, maxKeys, after });
  sendXml(request.res, 'ListBucketResult', {
    Name: request.bucket,
    Prefix: encode(prefix),
    ...(startAfter ? { StartAfter: encode(startAfter) } : {}),
    ...(token !== null ? { ContinuationToken: token } : {}),
    MaxKeys: maxKeys,
    KeyCount: page.objects.length + page.commonPrefixes.length,
    ...(delimiter ? { Delimiter: encode(delimiter) } : {}),
    IsTruncated: page.truncated,
    ...(page.truncated && page.last ? { NextContinuationToken: tokenOf(page.last) } : {}),
    ...(request.query.has('encoding-type') ? { EncodingType: 'url' } : {}),
    Contents: contentsOf(page.objects, encode, request.query.get('fetch-owner') === 'true'),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: encode(p) })),
  });
};

/** ListObjectVersions of an unversioned bucket: each object once, as version `null`. */
export const listObjectVersions = async (store: DiskS3Store, request: S3Request) => {
  const encode = encoderFor(request);
  const { prefix, delimiter, maxKeys } = listParams(request);
  const keyMarker = request.query.get('key-marker') ?? '';
  const page = await store.list(request.bucket, { prefix, delimiter, maxKeys, after: keyMarker });
  sendXml(request.res, 'ListVersionsResult', {
    Name: request.bucket,
    Prefix: encode(prefix),
    KeyMarker: encode(keyMarker),
    VersionIdMarker: request.query.get('version-id-marker') ?? '',
    MaxKeys: maxKeys,
    ...(delimiter ? { Delimiter: encode(delimiter) } : {}),
    IsTruncated: page.truncated,
    ...(page.truncated && page.last ? { NextKeyMarker: encode(page.last), NextVersionIdMarker: 'null' } : {}),
    ...(request.query.has('encoding-type') ? { EncodingType: 'url' } : {}),
    Version: page.objects.map(({ key, value }) => ({
      Key: encode(key),
      VersionId: 'null',
      IsLatest: true,
      LastModified: value.lastModified,
      ETag: value.etag,
      Size: value.size,
      StorageClass: 'STANDARD',
      Owner: owner,
    })),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: encode(p) })),
  });
};

interface DeleteDocument {
  Object?: { Key?: string; VersionId?: string }[];
  Quiet?: string;
}

/** DeleteObjects: up to 1000 keys; each deleted (or absent) key is reported unless Quiet. */
export const deleteObjects = async (store: DiskS3Store, request: S3Request) => {
  await store.requireBucket(request.bucket);
  const document = parseXml<DeleteDocument>(await readSmallBody(request), 'Delete');
  const objects = document.Object ?? [];
  if (objects.length === 0 || objects.length > 1000) throw malformedXml();
  const quiet = document.Quiet === 'true';
  const deleted: { Key: string }[] = [];
  const errors: { Key: string; Code: string; Message: string }[] = [];
  for (const object of objects) {
    const key = object.Key ?? '';
    try {
      if (!key) throw new S3Error('InvalidArgument', 400, 'Key is empty');
      await store.delete(request.bucket, key);
      if (!quiet) deleted.push({ Key: key });
    } catch (error) {
      const s3 =
        error instanceof S3Error ? error : new S3Error('InternalError', 500, (error as Error).message);
      errors.push({ Key: key, Code: s3.code, Message: s3.message });
    }
  }
  sendXml(request.res, 'DeleteResult', { Deleted: deleted, Error: errors });
};
