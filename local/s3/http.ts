import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { AwsChunkedDecoder, isAwsChunked } from './aws-chunked';
import type { WrittenBlob } from './blob-writer';
import {
  badDigest,
  checksumAlgorithms,
  checksumElement,
  checksumHeader,
  invalidRequest,
  isChecksumAlgorithm,
} from './checksums';
import type { ChecksumAlgorithm, StoredChecksum } from './checksums';
import { S3Error } from './errors';
import { maxSinglePutBytes, storedHeaderNames } from './store';
import type { ObjectRecord } from './store';
import { toXml } from './xml';

/** One S3 request, path-style: `/<bucket>/<key>?<query>`. */
export interface S3Request {
  req: IncomingMessage;
  res: ServerResponse;
  bucket: string;
  key: string;
  query: URLSearchParams;
  header(name: string): string | undefined;
}

export const owner = { ID: 'local', DisplayName: 'local' };

export const sendXml = (res: ServerResponse, root: string, body: Record<string, unknown>, status = 200) => {
  const text = toXml(root, body);
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

export const sendEmpty = (res: ServerResponse, status: number, headers: Record<string, string> = {}) => {
  res.writeHead(status, { ...headers, 'content-length': '0' });
  res.end();
};

/** The user metadata (`x-amz-meta-*`) and the stored headers a write sets. */
export const objectOptionsOf = (request: S3Request) => {
  const headers: Record<string, string> = {};
  for (const name of storedHeaderNames) {
    const value = request.header(name);
    if (value !== undefined) headers[name] = value;
  }
  // aws-chunked is the framing of this request, not an encoding of the object.
  if (headers['content-encoding']) {
    const codings = headers['content-encoding']
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c && c !== 'aws-chunked');
    if (codings.length) headers['content-encoding'] = codings.join(', ');
    else delete headers['content-encoding'];
  }
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.req.headers))
    if (name.startsWith('x-amz-meta-'))
      metadata[name.slice('x-amz-meta-'.length)] = decodeMimeWords(String(value));
  return { headers, metadata };
};

/**
 * User metadata as S3 keeps it: a value sent as RFC 2047 encoded words (`=?UTF-8?B?...?=`) is
 * decoded before it is stored. Other header bytes are taken one character each (Latin-1), as
 * S3 takes them.
 */
export const decodeMimeWords = (value: string) =>
  value.replace(
    /=\?([^?]+)\?([bBqQ])\?([^?]*)\?=(\s+(?==\?))?/g,
    (word, charset: string, coding: string, text: string) => {
      const encoding = /^utf-?8$/i.test(charset)
        ? 'utf8'
        : /^(iso-8859-1|us-ascii)$/i.test(charset)
          ? 'latin1'
          : undefined;
      if (!encoding) return word;
      const bytes =
        coding.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : Buffer.from(
              text
                .replace(/_/g, ' ')
                .replace(/=([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
              'latin1',
            );
      return bytes.toString(encoding);
    },
  );

/** A metadata value as S3 answers it: non-US-ASCII values as one RFC 2047 encoded word. */
export const encodeMimeWord = (value: string) =>
  /^[\x20-\x7e\t]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;

/** The headers that give an object's (or part's) additional checksum. */
export const checksumHeaders = (checksum: StoredChecksum | undefined, value = checksum?.value) =>
  checksum && value
    ? { [checksumHeader(checksum.algorithm)]: value, 'x-amz-checksum-type': checksum.type }
    : ({} as Record<string, string>);

/** The XML elements that give an object's additional checksum. */
export const checksumElements = (checksum: StoredChecksum | undefined) =>
  checksum ? { [checksumElement(checksum.algorithm)]: checksum.value, ChecksumType: checksum.type } : {};

/** A write's `If-Match` / `If-None-Match`. */
export const writeConditionOf = (request: S3Request) => ({
  ifMatch: request.header('if-match'),
  ifNoneMatch: request.header('if-none-match'),
});

/** The headers S3 answers GET and HEAD with for an object. */
export const objectHeaders = (record: ObjectRecord) => {
  const headers: Record<string, string> = {
    etag: record.etag,
    'last-modified': new Date(record.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
    ...record.headers,
  };
  for (const [name, value] of Object.entries(record.metadata))
    headers[`x-amz-meta-${name}`] = encodeMimeWord(value);
  return headers;
};

/** The body's length as the client declared it (the decoded length for aws-chunked). */
const declaredLength = (request: S3Request) => {
  const chunked = isAwsChunked(request.req.headers);
  const text = chunked ? request.header('x-amz-decoded-content-length') : request.header('content-length');
  if (text === undefined) {
    if (chunked || request.header('transfer-encoding')) return undefined;
    throw new S3Error('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.');
  }
  const length = Number(text);
  if (!Number.isSafeInteger(length) || length < 0)
    throw new S3Error('InvalidArgument', 400, `Bad content length ${text}`);
  return length;
};

/**
 * The additional checksum a write names: a value header, a trailer declared in `x-amz-trailer`
 * (the SDKs' aws-chunked uploads), or only `x-amz-sdk-checksum-algorithm` (then the store
 * computes it). Naming two is refused, as S3 refuses it.
 */
export const requestChecksumOf = (request: S3Request) => {
  const trailers = (request.header('x-amz-trailer') ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase());
  const named = checksumAlgorithms.filter(
    (algorithm) =>
      request.header(checksumHeader(algorithm)) !== undefined || trailers.includes(checksumHeader(algorithm)),
  );
  if (named.length > 1)
    throw invalidRequest(
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    );
  if (named[0]) return { algorithm: named[0], sent: true };
  const sdkAlgorithm = request.header('x-amz-sdk-checksum-algorithm')?.toUpperCase();
  return sdkAlgorithm && isChecksumAlgorithm(sdkAlgorithm)
    ? { algorithm: sdkAlgorithm, sent: false }
    : undefined;
};

/**
 * The request's body as a stream of the object's bytes, aws-chunked framing removed; the
 * checksums to compute while it is written (the one the request names, and `also`); and a
 * check to run once it is written: length, Content-MD5 and the additional checksum (header or
 * trailer), as S3 checks them.
 */
export const bodyOf = (request: S3Request, maxBytes = maxSinglePutBytes, also?: ChecksumAlgorithm) => {
  const length = declaredLength(request);
  if (length !== undefined && length > maxBytes)
    throw new S3Error('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size', {
      ProposedSize: String(length),
      MaxSizeAllowed: String(maxBytes),
    });
  const contentMd5 = request.header('content-md5');
  if (contentMd5 !== undefined && Buffer.from(contentMd5, 'base64').length !== 16)
    throw new S3Error('InvalidDigest', 400, 'The Content-MD5 you specified was invalid.');
  const named = requestChecksumOf(request);
  let body: Readable = request.req;
  let decoder: AwsChunkedDecoder | undefined;
  if (isAwsChunked(request.req.headers)) {
    decoder = new AwsChunkedDecoder();
    body = pipeline(request.req, decoder, () => undefined);
  }
  const algorithms = new Set<ChecksumAlgorithm>();
  if (named) algorithms.add(named.algorithm);
  if (also) algorithms.add(also);
  // A trailer not declared in x-amz-trailer (older clients): the SDKs' default is CRC32.
  if (decoder && request.header('x-amz-trailer') === undefined) algorithms.add('CRC32');
  const sentValue = (algorithm: ChecksumAlgorithm) =>
    request.header(checksumHeader(algorithm)) ?? decoder?.trailers[checksumHeader(algorithm)];
  const check = (written: WrittenBlob) => {
    if (length !== undefined && written.size !== length)
      throw new S3Error(
        'IncompleteBody',
        400,
        'You did not provide the number of bytes specified by the Content-Length HTTP header',
      );
    if (written.size > maxBytes)
      throw new S3Error('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size');
    if (contentMd5 !== undefined && !Buffer.from(contentMd5, 'base64').equals(written.md5))
      throw new S3Error('BadDigest', 400, 'The Content-MD5 you specified did not match what we received.');
    if (named?.sent && sentValue(named.algorithm) === undefined)
      throw new S3Error(
        'MalformedTrailerError',
        400,
        'The request contained trailing data that was not well-formed or did not conform to our published schema.',
      );
    for (const algorithm of checksumAlgorithms) {
      const value = sentValue(algorithm);
      if (value === undefined) continue;
      if (written.checksums[algorithm] === undefined)
        throw invalidRequest(`The ${checksumHeader(algorithm)} trailer was not declared in x-amz-trailer.`);
      if (value !== written.checksums[algorithm]) throw badDigest(algorithm);
    }
  };
  /** The checksum the request named (sent or only asked for), once written. */
  const checksumOf = (written: WrittenBlob) => {
    const algorithm =
      named?.algorithm ?? checksumAlgorithms.find((candidate) => sentValue(candidate) !== undefined);
    const value = algorithm && written.checksums[algorithm];
    return algorithm && value ? { algorithm, value } : undefined;
  };
  return { body, check, algorithms, checksumOf };
};

/** A small request body (an XML document), refused past 1 MiB. */
export const readSmallBody = async (request: S3Request, maxBytes = 1 << 20) => {
  const { body } = bodyOf(request, maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new S3Error('MaxMessageLengthExceeded', 400, 'Your request was too big.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
};

const etagMatches = (list: string, etag: string) =>
  list.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^"|"$/g, '') === etag.replace(/^"|"$/g, '');
  });

const seconds = (date: string) => Math.floor(new Date(date).getTime() / 1000);

/**
 * Evaluates conditional headers as S3 does (RFC 7232 order): `names` maps the four conditions
 * to the request's headers (plain GET/HEAD, or `x-amz-copy-source-if-*` for a copy).
 */
export const checkConditions = (
  request: S3Request,
  record: ObjectRecord,
  prefix: '' | 'x-amz-copy-source-' = '',
) => {
  const ifMatch = request.header(`${prefix}if-match`);
  const ifNoneMatch = request.header(`${prefix}if-none-match`);
  const ifModifiedSince = request.header(`${prefix}if-modified-since`);
  const ifUnmodifiedSince = request.header(`${prefix}if-unmodified-since`);
  const modified = seconds(record.lastModified);
  const failed = () =>
    new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', {
      Condition: prefix ? 'x-amz-copy-source-If-Match' : 'If-Match',
    });
  // A copy answers 412 where a GET answers 304.
  const notModified = () => (prefix ? failed() : new S3Error('NotModified', 304, 'Not Modified'));
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, record.etag)) throw failed();
  } else if (ifUnmodifiedSince !== undefined && !Number.isNaN(seconds(ifUnmodifiedSince))) {
    if (modified > seconds(ifUnmodifiedSince)) throw failed();
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, record.etag)) throw notModified();
  } else if (ifModifiedSince !== undefined && !Number.isNaN(seconds(ifModifiedSince))) {
    if (modified <= seconds(ifModifiedSince)) throw notModified();
  }
};

/** S3's `encoding-type=url`: keys percent-encoded, slashes kept. */
export const encoderFor = (request: S3Request) => {
  const type = request.query.get('encoding-type');
  if (type === null) return (text: string) => text;
  if (type !== 'url')
    throw new S3Error('InvalidArgument', 400, 'Invalid Encoding Method specified in Request', {
      ArgumentName: 'encoding-type',
      ArgumentValue: type,
    });
  return (text: string) => encodeURIComponent(text).replace(/%2F/g, '/');
};

/** An integer query parameter in [min, max], `fallback` when absent; above max is clamped. */
export const intParam = (
  request: S3Request,
  name: string,
  fallback: number,
  max: number,
  text: string | null | undefined = request.query.get(name),
) => {
  if (text === null || text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0)
    throw new S3Error('InvalidArgument', 400, `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: text,
    });
  return Math.min(value, max);
};
