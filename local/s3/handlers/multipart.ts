import {
  checksumAlgorithms,
  checksumElement,
  checksumHeader,
  invalidRequest,
  uploadChecksumOf,
} from '../checksums';
import type { ChecksumAlgorithm } from '../checksums';
import { S3Error, invalidArgument, malformedXml } from '../errors';
import {
  bodyOf,
  checkConditions,
  checksumElements,
  intParam,
  objectOptionsOf,
  owner,
  readSmallBody,
  sendEmpty,
  requestChecksumOf,
  sendXml,
  writeConditionOf,
} from '../http';
import type { S3Request } from '../http';
import { maxSinglePutBytes } from '../store';
import type { DiskS3Store, UploadRecord } from '../store';
import { parseXml, toXml } from '../xml';
import { copySourceOf } from './objects';

const uploadIdOf = (request: S3Request) => request.query.get('uploadId') ?? '';

export const createMultipartUpload = async (store: DiskS3Store, request: S3Request) => {
  const checksum = uploadChecksumOf(
    request.header('x-amz-checksum-algorithm'),
    request.header('x-amz-checksum-type'),
  );
  const upload = await store.createUpload(request.bucket, request.key, {
    ...objectOptionsOf(request),
    ...(checksum ? { checksum } : {}),
  });
  const text = toXml('InitiateMultipartUploadResult', {
    Bucket: request.bucket,
    Key: request.key,
    UploadId: upload.uploadId,
  });
  request.res.writeHead(200, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(text),
    ...(checksum
      ? { 'x-amz-checksum-algorithm': checksum.algorithm, 'x-amz-checksum-type': checksum.type }
      : {}),
  });
  request.res.end(text);
};

const partNumberOf = (request: S3Request) => {
  const text = request.query.get('partNumber') ?? '';
  const partNumber = Number(text);
  if (!/^\d+$/.test(text) || partNumber < 1 || partNumber > 10_000)
    throw invalidArgument(
      'Part number must be an integer between 1 and 10000, inclusive',
      'partNumber',
      text,
    );
  return partNumber;
};

export const uploadPart = async (store: DiskS3Store, request: S3Request) => {
  const upload = await store.upload(uploadIdOf(request), request.bucket, request.key);
  const partNumber = partNumberOf(request);
  checkPartChecksum(upload, request);
  const { body, ...checks } = bodyOf(request);
  const { etag, written } = await store.putPart(upload, partNumber, [() => body], checks);
  sendEmpty(request.res, 200, {
    etag,
    ...partChecksumHeaders(upload, checks.checksumOf(written), written.checksums),
  });
};

/**
 * A part of an upload with a checksum carries that algorithm's checksum (COMPOSITE: it must;
 * FULL_OBJECT: it may), as S3 requires.
 */
const checkPartChecksum = (upload: UploadRecord, request: S3Request) => {
  if (!upload.checksum) return;
  const named = requestChecksumOf(request);
  if (named?.algorithm === upload.checksum.algorithm || (!named && upload.checksum.type === 'FULL_OBJECT'))
    return;
  throw invalidRequest(
    `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksum.algorithm.toLowerCase()}, actual checksum Type: ${named?.algorithm.toLowerCase() ?? 'null'}`,
  );
};

/** UploadPart's answer: the part's checksum of the upload's algorithm, else the one it was sent with. */
const partChecksumHeaders = (
  upload: UploadRecord,
  sent: { algorithm: ChecksumAlgorithm; value: string } | undefined,
  computed: Partial<Record<ChecksumAlgorithm, string>> = {},
): Record<string, string> => {
  const algorithm = upload.checksum?.algorithm ?? sent?.algorithm;
  const value = upload.checksum ? (computed[upload.checksum.algorithm] ?? sent?.value) : sent?.value;
  return algorithm && value ? { [checksumHeader(algorithm)]: value } : {};
};

/** `x-amz-copy-source-range: bytes=first-last`, inside the source. */
const copyRangeOf = (request: S3Request, size: number) => {
  const text = request.header('x-amz-copy-source-range');
  if (text === undefined) return { start: 0, end: size - 1 };
  const match = /^bytes=(\d+)-(\d+)$/.exec(text.trim());
  const start = Number(match?.[1]);
  const end = Number(match?.[2]);
  if (!match || end < start)
    throw invalidArgument(
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      'x-amz-copy-source-range',
      text,
    );
  if (end >= size)
    throw new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', {
      ActualObjectSize: String(size),
    });
  return { start, end };
};

/** UploadPartCopy: a byte range of an object, streamed from its file into a part. */
export const uploadPartCopy = async (store: DiskS3Store, request: S3Request) => {
  const upload = await store.upload(uploadIdOf(request), request.bucket, request.key);
  const partNumber = partNumberOf(request);
  const source = copySourceOf(request);
  const record = await store.head(source.bucket, source.key);
  checkConditions(request, record, 'x-amz-copy-source-');
  const range = copyRangeOf(request, record.size);
  if (range.end - range.start + 1 > maxSinglePutBytes)
    throw new S3Error('InvalidRequest', 400, 'The specified copy range is larger than the maximum part size');
  const opened = record.size === 0 ? undefined : await store.open(source.bucket, source.key, range);
  const part = await store.putPart(upload, partNumber, opened ? [() => opened.body] : []);
  const checksum = upload.checksum && part.written.checksums[upload.checksum.algorithm];
  sendXml(request.res, 'CopyPartResult', {
    LastModified: part.lastModified.toISOString(),
    ETag: part.etag,
    ...(upload.checksum && checksum ? { [checksumElement(upload.checksum.algorithm)]: checksum } : {}),
  });
};

interface CompleteDocument {
  Part?: ({ PartNumber?: string; ETag?: string } & Record<string, string | undefined>)[];
}

export const completeMultipartUpload = async (store: DiskS3Store, request: S3Request) => {
  const upload = await store.upload(uploadIdOf(request), request.bucket, request.key).catch(async (error) => {
    const etag = await store.completedUpload(uploadIdOf(request), request.bucket, request.key);
    if (etag === undefined) throw error;
    return etag;
  });
  if ('etag' in upload) {
    sendXml(request.res, 'CompleteMultipartUploadResult', {
      Bucket: request.bucket,
      Key: request.key,
      ETag: upload.etag,
      ...checksumElements(upload.checksum),
    });
    return;
  }
  const document = parseXml<CompleteDocument>(await readSmallBody(request), 'CompleteMultipartUpload');
  const parts = (document.Part ?? []).map((part) => {
    const partNumber = Number(part.PartNumber);
    if (!Number.isInteger(partNumber) || part.ETag === undefined) throw malformedXml();
    const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
    for (const algorithm of checksumAlgorithms) {
      const value = part[checksumElement(algorithm)];
      if (value !== undefined) checksums[algorithm] = value.trim();
    }
    return { partNumber, etag: part.ETag, checksums };
  });
  const record = await store.completeUpload(upload, parts, writeConditionOf(request), {
    value: upload.checksum && request.header(checksumHeader(upload.checksum.algorithm)),
    type: request.header('x-amz-checksum-type'),
  });
  sendXml(request.res, 'CompleteMultipartUploadResult', {
    Location: `/${request.bucket}/${encodeURIComponent(request.key).replace(/%2F/g, '/')}`,
    Bucket: request.bucket,
    Key: request.key,
    ETag: record.etag,
    ...checksumElements(record.checksum),
  });
};

export const abortMultipartUpload = async (store: DiskS3Store, request: S3Request) => {
  await store.upload(uploadIdOf(request), request.bucket, request.key);
  await store.abortUpload(uploadIdOf(request));
  sendEmpty(request.res, 204);
};

export const listParts = async (store: DiskS3Store, request: S3Request) => {
  const upload = await store.upload(uploadIdOf(request), request.bucket, request.key);
  const maxParts = intParam(request, 'max-parts', 1000, 1000);
  const marker = intParam(request, 'part-number-marker', 0, 10_000);
  const after = (await store.listParts(upload.uploadId)).filter((part) => part.partNumber > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  sendXml(request.res, 'ListPartsResult', {
    Bucket: request.bucket,
    Key: request.key,
    UploadId: upload.uploadId,
    Initiator: owner,
    Owner: owner,
    StorageClass: 'STANDARD',
    ...(upload.checksum
      ? { ChecksumAlgorithm: upload.checksum.algorithm, ChecksumType: upload.checksum.type }
      : {}),
    PartNumberMarker: marker,
    ...(page.length ? { NextPartNumberMarker: page[page.length - 1]?.partNumber } : {}),
    MaxParts: maxParts,
    IsTruncated: truncated,
    Part: page.map((part) => ({
      PartNumber: part.partNumber,
      LastModified: part.lastModified,
      ETag: part.etag,
      Size: part.size,
      ...Object.fromEntries(
        Object.entries(part.checksums).map(([algorithm, value]) => [
          checksumElement(algorithm as ChecksumAlgorithm),
          value,
        ]),
      ),
    })),
  });
};

export const listMultipartUploads = async (store: DiskS3Store, request: S3Request) => {
  const prefix = request.query.get('prefix') ?? '';
  const keyMarker = request.query.get('key-marker') ?? '';
  const maxUploads = intParam(request, 'max-uploads', 1000, 1000);
  const matching = (await store.listUploads(request.bucket)).filter(
    (upload) => upload.key.startsWith(prefix) && upload.key > keyMarker,
  );
  const page = matching.slice(0, maxUploads);
  const last = page[page.length - 1];
  sendXml(request.res, 'ListMultipartUploadsResult', {
    Bucket: request.bucket,
    KeyMarker: keyMarker,
    UploadIdMarker: request.query.get('upload-id-marker') ?? '',
    ...(matching.length > page.length && last
      ? { NextKeyMarker: last.key, NextUploadIdMarker: last.uploadId }
      : {}),
    Prefix: prefix,
    MaxUploads: maxUploads,
    IsTruncated: matching.length > page.length,
    Upload: page.map((upload) => ({
      Key: upload.key,
      UploadId: upload.uploadId,
      Initiator: owner,
      Owner: owner,
      StorageClass: 'STANDARD',
      Initiated: upload.initiated,
      ...(upload.checksum
        ? { ChecksumAlgorithm: upload.checksum.algorithm, ChecksumType: upload.checksum.type }
        : {}),
    })),
  });
};
