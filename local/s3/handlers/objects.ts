import { pipeline } from 'node:stream/promises';
import { isChecksumAlgorithm } from '../checksums';
import { S3Error, invalidArgument } from '../errors';
import {
  bodyOf,
  checkConditions,
  checksumElements,
  checksumHeaders,
  intParam,
  objectHeaders,
  objectOptionsOf,
  sendEmpty,
  sendXml,
  writeConditionOf,
} from '../http';
import type { S3Request } from '../http';
import { maxSinglePutBytes } from '../store';
import type { DiskS3Store, ObjectRecord } from '../store';
import { toXml } from '../xml';

/** Query parameters that override a GET's answer headers (used by presigned downloads). */
const responseOverrides: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

export const putObject = async (store: DiskS3Store, request: S3Request) => {
  const { body, ...checks } = bodyOf(request);
  const { record } = await store.put(
    request.bucket,
    request.key,
    body,
    objectOptionsOf(request),
    checks,
    writeConditionOf(request),
  );
  sendEmpty(request.res, 200, { etag: record.etag, ...checksumHeaders(record.checksum) });
};

/** A `Range: bytes=...` header as S3 reads it; undefined means the whole object. */
export const parseRange = (header: string | undefined, size: number) => {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [first, last] = [match[1] ?? '', match[2] ?? ''];
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) throw invalidRange(size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) throw invalidRange(size);
  return { start, end };
};

const invalidRange = (size: number) =>
  new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', {
    ActualObjectSize: String(size),
  });

/** The byte range of part `partNumber` of an object (a single-part object has part 1). */
const partRange = (record: ObjectRecord, text: string) => {
  const partNumber = Number(text);
  const parts = record.parts ?? [record.size];
  if (!Number.isInteger(partNumber) || partNumber < 1)
    throw invalidArgument('Part number must be a positive integer', 'partNumber', text);
  if (partNumber > parts.length)
    throw new S3Error('InvalidPart', 400, 'The requested partnumber is not satisfiable');
  const start = parts.slice(0, partNumber - 1).reduce((sum, size) => sum + size, 0);
  return { start, end: start + (parts[partNumber - 1] ?? 0) - 1, count: parts.length };
};

/** GET and HEAD: conditions, ranges (or a part), header overrides, the body streamed from disk. */
export const getObject = async (store: DiskS3Store, request: S3Request, headOnly: boolean): Promise<void> => {
  const record = await store.head(request.bucket, request.key);
  checkConditions(request, record);
  const partNumber = request.query.get('partNumber');
  const part = partNumber !== null ? partRange(record, partNumber) : undefined;
  const range = part ?? parseRange(request.header('range'), record.size);
  const headers = objectHeaders(record);
  for (const [parameter, header] of Object.entries(responseOverrides)) {
    const value = request.query.get(parameter);
    if (value !== null) headers[header] = value;
  }
  if (part) headers['x-amz-mp-parts-count'] = String(part.count);
  // The checksum is the whole object's, or a part's; a byte range gets none, as in S3.
  if (request.header('x-amz-checksum-mode')?.toUpperCase() === 'ENABLED' && (part || !range))
    Object.assign(
      headers,
      checksumHeaders(
        record.checksum,
        part && record.parts ? record.partChecksums?.[Number(partNumber) - 1] : undefined,
      ),
    );
  const length = range ? Math.max(0, range.end - range.start + 1) : record.size;
  headers['content-length'] = String(length);
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${record.size}`;
  const status = range && !(part && part.count === 1 && !record.parts) ? 206 : 200;
  if (headOnly) {
    request.res.writeHead(status, headers);
    request.res.end();
    return;
  }
  if (length === 0) {
    request.res.writeHead(status, headers);
    request.res.end();
    return;
  }
  const { record: opened, body } = await store.open(request.bucket, request.key, range);
  if (opened.blob !== record.blob) {
    // Overwritten since the record was read: answer what was opened.
    body.destroy();
    return getObject(store, request, headOnly);
  }
  request.res.writeHead(status, headers);
  await pipeline(body, request.res);
};

export const deleteObject = async (store: DiskS3Store, request: S3Request) => {
  await store.delete(request.bucket, request.key);
  sendEmpty(request.res, 204);
};

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=...]`, URL-encoded. */
export const copySourceOf = (request: S3Request) => {
  const text = request.header('x-amz-copy-source') ?? '';
  const path = decodeURIComponent(text.split('?')[0] ?? '').replace(/^\//, '');
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1)
    throw new S3Error(
      'InvalidArgument',
      400,
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      {
        ArgumentName: 'x-amz-copy-source',
        ArgumentValue: text,
      },
    );
  const versionId = new URLSearchParams(text.split('?')[1] ?? '').get('versionId');
  if (versionId !== null && versionId !== 'null')
    throw new S3Error('NoSuchVersion', 404, 'The specified version does not exist.');
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
};

export const copyObject = async (store: DiskS3Store, request: S3Request) => {
  const source = copySourceOf(request);
  const directive = request.header('x-amz-metadata-directive') ?? 'COPY';
  if (directive !== 'COPY' && directive !== 'REPLACE')
    throw invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
  const record = await store.head(source.bucket, source.key);
  checkConditions(request, record, 'x-amz-copy-source-');
  if (source.bucket === request.bucket && source.key === request.key && directive === 'COPY')
    throw new S3Error(
      'InvalidRequest',
      400,
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  if (record.size > maxSinglePutBytes)
    throw new S3Error(
      'InvalidRequest',
      400,
      `The specified copy source is larger than the maximum allowable size for a copy source: ${maxSinglePutBytes}`,
    );
  const algorithm = request.header('x-amz-checksum-algorithm')?.toUpperCase();
  const copied = await store.copy(
    source,
    { bucket: request.bucket, key: request.key },
    directive === 'REPLACE' ? objectOptionsOf(request) : undefined,
    algorithm && isChecksumAlgorithm(algorithm) ? algorithm : undefined,
  );
  sendXml(request.res, 'CopyObjectResult', {
    LastModified: copied.lastModified,
    ETag: copied.etag,
    ...checksumElements(copied.checksum),
  });
};

const objectAttributeNames = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'];

/** GetObjectAttributes (`GET ?attributes`): the attributes named in `x-amz-object-attributes`. */
export const getObjectAttributes = async (store: DiskS3Store, request: S3Request) => {
  const wanted = (request.header('x-amz-object-attributes') ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (wanted.length === 0 || wanted.some((name) => !objectAttributeNames.includes(name)))
    throw invalidArgument('Invalid attribute name specified.', 'x-amz-object-attributes', wanted.join(','));
  const record = await store.head(request.bucket, request.key);
  const maxParts = intParam(request, 'x-amz-max-parts', 1000, 1000, request.header('x-amz-max-parts'));
  const marker = intParam(
    request,
    'x-amz-part-number-marker',
    0,
    10_000,
    request.header('x-amz-part-number-marker'),
  );
  const attributes: Record<string, unknown> = {};
  if (wanted.includes('ETag')) attributes.ETag = record.etag.replace(/"/g, '');
  if (wanted.includes('Checksum') && record.checksum) {
    const { ChecksumType, ...value } = checksumElements(record.checksum);
    attributes.Checksum = { ...value, ChecksumType };
  }
  if (wanted.includes('ObjectParts') && record.parts) {
    const all = record.parts.map((size, index) => ({
      PartNumber: index + 1,
      Size: size,
      ...(record.checksum && record.partChecksums?.[index]
        ? { [`Checksum${record.checksum.algorithm}`]: record.partChecksums[index] }
        : {}),
    }));
    const after = all.filter((part) => part.PartNumber > marker);
    const page = after.slice(0, maxParts);
    attributes.ObjectParts = {
      PartsCount: all.length,
      PartNumberMarker: marker,
      ...(page.length ? { NextPartNumberMarker: page[page.length - 1]?.PartNumber } : {}),
      MaxParts: maxParts,
      IsTruncated: after.length > page.length,
      Part: page,
    };
  }
  if (wanted.includes('StorageClass')) attributes.StorageClass = 'STANDARD';
  if (wanted.includes('ObjectSize')) attributes.ObjectSize = record.size;
  const text = toXml('GetObjectAttributesResponse', attributes);
  request.res.writeHead(200, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(text),
    'last-modified': new Date(record.lastModified).toUTCString(),
  });
  request.res.end(text);
};
