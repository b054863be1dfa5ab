import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Error } from './errors';
import type { S3Request } from './http';
import * as buckets from './handlers/buckets';
import * as multipart from './handlers/multipart';
import * as objects from './handlers/objects';
import type { DiskS3Store } from './store';
import { errorXml } from './xml';

/** Sub-resources of S3's API this store does not keep (ACLs, policies, tags, ...). */
const unsupportedSubresources = [
  'acl',
  'policy',
  'policyStatus',
  'cors',
  'tagging',
  'lifecycle',
  'website',
  'logging',
  'notification',
  'replication',
  'encryption',
  'object-lock',
  'retention',
  'legal-hold',
  'torrent',
  'restore',
  'select',
  'accelerate',
  'requestPayment',
  'analytics',
  'inventory',
  'metrics',
  'ownershipControls',
  'publicAccessBlock',
  'intelligent-tiering',
  'website',
];

type Handler = (store: DiskS3Store, request: S3Request) => Promise<void>;

/** Which operation a request names: by method, whether it has a key, and its sub-resources. */
const route = (request: S3Request): Handler | undefined => {
  const { req, bucket, key, query } = request;
  const method = req.method ?? 'GET';
  if (!bucket) return method === 'GET' ? buckets.listBuckets : undefined;
  if (unsupportedSubresources.some((name) => query.has(name))) return undefined;
  if (!key) {
    if (method === 'PUT') return query.has('versioning') ? undefined : buckets.createBucket;
    if (method === 'DELETE') return buckets.deleteBucket;
    if (method === 'HEAD') return buckets.headBucket;
    if (method === 'POST') return query.has('delete') ? buckets.deleteObjects : undefined;
    if (method !== 'GET') return undefined;
    if (query.has('location')) return buckets.bucketLocation;
    if (query.has('versioning')) return buckets.bucketVersioning;
    if (query.has('uploads')) return multipart.listMultipartUploads;
    if (query.has('versions')) return buckets.listObjectVersions;
    return query.get('list-type') === '2' ? buckets.listObjectsV2 : buckets.listObjectsV1;
  }
  const copy = request.header('x-amz-copy-source') !== undefined;
  if (method === 'PUT') {
    if (query.has('uploadId')) return copy ? multipart.uploadPartCopy : multipart.uploadPart;
    return copy ? objects.copyObject : objects.putObject;
  }
  if (method === 'GET') {
    if (query.has('attributes')) return objects.getObjectAttributes;
    return query.has('uploadId') ? multipart.listParts : (store, r) => objects.getObject(store, r, false);
  }
  if (method === 'HEAD') return (store, r) => objects.getObject(store, r, true);
  if (method === 'DELETE')
    return query.has('uploadId') ? multipart.abortMultipartUpload : objects.deleteObject;
  if (method === 'POST') {
    if (query.has('uploads')) return multipart.createMultipartUpload;
    if (query.has('uploadId')) return multipart.completeMultipartUpload;
  }
  return undefined;
};

/** A presigned URL past its `X-Amz-Expires` is refused, as S3 does; signatures are not checked. */
const checkPresignedExpiry = (query: URLSearchParams, now = Date.now()) => {
  const expires = query.get('X-Amz-Expires');
  const date = query.get('X-Amz-Date');
  if (expires === null || date === null) return;
  const seconds = Number(expires);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 604_800)
    throw new S3Error(
      'AuthorizationQueryParametersError',
      403,
      'X-Amz-Expires must be less than a week (in seconds) that is 604800',
    );
  const signedAt = Date.parse(
    date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  if (Number.isNaN(signedAt))
    throw new S3Error('AuthorizationQueryParametersError', 403, 'Invalid X-Amz-Date');
  if (now > signedAt + seconds * 1000) throw new S3Error('AccessDenied', 403, 'Request has expired');
};

const parseRequest = (req: IncomingMessage, res: ServerResponse): S3Request => {
  const url = new URL(req.url ?? '/', 'http://local');
  const path = url.pathname.slice(1);
  const slash = path.indexOf('/');
  const bucket = decodeURIComponent(slash < 0 ? path : path.slice(0, slash));
  const key = slash < 0 ? '' : decodeURIComponent(path.slice(slash + 1));
  return {
    req,
    res,
    bucket,
    key,
    query: url.searchParams,
    header: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(',') : value;
    },
  };
};

const sendError = (
  req: IncomingMessage,
  res: ServerResponse,
  error: S3Error,
  resource: string,
  requestId: string,
) => {
  if (error.status === 304 || req.method === 'HEAD') {
    res.writeHead(error.status, { 'x-amz-error-code': error.code, 'content-length': '0' });
    res.end();
    return;
  }
  const body = errorXml(error.code, error.message, {
    ...error.extra,
    Resource: resource,
    RequestId: requestId,
  });
  // A refused upload's body is not read: close the connection rather than drain gigabytes.
  const unread = !req.readableEnded && ['PUT', 'POST'].includes(req.method ?? '');
  res.writeHead(error.status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    ...(unread ? { connection: 'close' } : {}),
  });
  res.end(body);
};

/** The S3 API over `store`, as a request handler (the AWS endpoint calls it in-process). */
export const s3RequestHandler = (store: DiskS3Store) => (req: IncomingMessage, res: ServerResponse) => {
  let request: S3Request | undefined;
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  res.setHeader('x-amz-request-id', requestId);
  const run = async () => {
    request = parseRequest(req, res);
    checkPresignedExpiry(request.query);
    const handler = route(request);
    if (!handler)
      throw new S3Error(
        'NotImplemented',
        501,
        'A header or query you provided implies functionality that is not implemented.',
      );
    await handler(store, request);
  };
  run().catch((error: unknown) => {
    // Mid-answer: the client went away (a reader that needed only part of a body) or the disk
    // failed; either way only closing the connection is left to do.
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const s3 =
      error instanceof S3Error
        ? error
        : error instanceof URIError
          ? new S3Error('InvalidURI', 400, 'Could not parse the specified URI.')
          : new S3Error('InternalError', 500, (error as Error).message);
    if (s3.status === 500) console.error(`local S3: ${req.method} ${req.url}: ${(error as Error).stack}`);
    sendError(req, res, s3, request ? `/${request.bucket}/${request.key}` : (req.url ?? '/'), requestId);
  });
};

/** The S3 API on its own port (the store's tests and the conformance run use it directly). */
export const startS3Server = async (store: DiskS3Store, host = '127.0.0.1', port = 0) => {
  const server: Server = createServer(s3RequestHandler(store));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => done());
  });
  return {
    server,
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
};
