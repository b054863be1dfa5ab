import { Agent, createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { s3RequestHandler } from './s3/server';
import { DiskS3Store } from './s3/store';
import type { ObjectCreatedListener } from './s3/store';

/** An in-process service that answers AWS JSON-protocol requests (Step Functions, Batch). */
export type ServiceHandler = (
  req: IncomingMessage,
  res: ServiceResponse,
  body: Buffer,
) => void | Promise<void>;
export type ServiceResponse = ServerResponse;

export interface AwsEndpointOptions {
  host: string;
  port: number;
  dataDir: string;
  services?: Record<string, ServiceHandler>;
}

export interface AwsEndpoint {
  url: string;
  onObjectCreated(listener: ObjectCreatedListener): void;
  stop(): Promise<void>;
}

const projectRoot = resolve(__dirname, '..');
const fauxqsModule = (path: string) => join(projectRoot, 'node_modules/fauxqs/dist', path);

/** The signing scope names the service: `Credential=AKID/20261125/us-east-1/<service>/aws4_request`. */
const credentialScopeService = (req: IncomingMessage): string | undefined => {
  const authorization = req.headers.authorization ?? '';
  const fromHeader = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization)?.[1];
  if (fromHeader) return fromHeader;
  const query = new URL(req.url ?? '/', 'http://local').searchParams.get('X-Amz-Credential');
  return query?.split('/')[3];
};

/** Which emulator serves a request: by signing scope first, then by the JSON protocol's target. */
export const serviceOf = (req: IncomingMessage): string => {
  const scoped = credentialScopeService(req);
  if (scoped) return scoped;
  const target = String(req.headers['x-amz-target'] ?? '');
  if (target.startsWith('DynamoDB_')) return 'dynamodb';
  if (target.startsWith('AmazonSQS')) return 'sqs';
  if (target.startsWith('AWSStepFunctions')) return 'states';
  return 's3';
};

const listen = (server: Server, host: string, port: number) =>
  new Promise<number>((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => done((server.address() as AddressInfo).port));
  });

const close = (server: Server) =>
  new Promise<void>((done) => {
    server.closeAllConnections?.();
    server.close(() => done());
  });

/**
 * Requests proxied to an emulator and not yet answered. An emulator closed under one of them
 * (dynalite closes its LevelDB with its server) fails it with an error thrown in a callback,
 * which takes the whole process down: stopping waits for them first.
 */
type InFlight = Set<Promise<void>>;

const proxyTo =
  (port: number, upstreamAgent: Agent, inFlight: InFlight) => (req: IncomingMessage, res: ServerResponse) => {
    let settle = () => {};
    const done = new Promise<void>((resolve) => (settle = resolve));
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: upstreamAgent,
      },
      (answer) => {
        answer.once('end', settle).once('error', settle);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        // A caller gone (the gateway closing) still lets the answer drain, so the request ends.
        res.once('close', () => answer.resume());
      },
    );
    upstream.on('error', (error) => {
      settle();
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`local AWS endpoint: upstream failed: ${error.message}`);
    });
    req.pipe(upstream);
  };

/** Waits for the proxied requests still in flight, for at most `ms`. */
const drain = async (inFlight: InFlight, ms: number) => {
  await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => setTimeout(resolve, ms))]);
};

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/**
 * One AWS endpoint for every emulated service, like LocalStack's: DynamoDB (dynalite, on disk),
 * SQS and SNS (fauxqs), S3 (local/s3, on disk, streamed), and the in-process
 * services the runtime registers (Step Functions). Any SDK or CLI pointed at it with
 * `AWS_ENDPOINT_URL` sees the same resources as the functions do.
 */
export const startAwsEndpoint = async (options: AwsEndpointOptions): Promise<AwsEndpoint> => {
  const { default: dynalite } = await import('dynalite');
  const dynamo = dynalite({
    path: join(options.dataDir, 'dynamodb'),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const dynamoPort = await listen(dynamo, '127.0.0.1', 0);

  // S3 is this runtime's own store on disk (local/s3/): bodies streamed to files, an index on
  // disk, nothing loaded at start. fauxqs serves SQS and SNS only.
  const s3Store = await DiskS3Store.open(join(options.dataDir, 's3'));
  const toS3 = s3RequestHandler(s3Store);

  // fauxqs exports none of its store classes; load them from its dist folder.
  const { SqsStore } = (await import(fauxqsModule('sqs/sqsStore.js'))) as {
    SqsStore: new () => { host?: string };
  };
  const sqsStore = new SqsStore();
  // Queue URLs then name the host the client called (this endpoint), not sqs.<region>.localhost.
  sqsStore.host = '';
  // fauxqs is ESM-only with an import-only export map: load it with import(), not require().
  const { buildApp } = await import('fauxqs');
  const fauxqs = buildApp({ logger: false, stores: { sqsStore } } as never);
  await fauxqs.listen({ host: '127.0.0.1', port: 0 });
  const fauxqsPort = (fauxqs.server.address() as AddressInfo).port;

  // Node's servers drop a kept-alive connection after 5 s idle, and the default agent keeps one
  // for 5 s too: reusing one just as the emulator closes it fails the request ("socket hang up").
  // Idle connections are closed here first, and all of them when the endpoint stops.
  const upstreamAgent = new Agent({ keepAlive: true, timeout: 2_000 });
  const inFlight: InFlight = new Set();
  const toDynamo = proxyTo(dynamoPort, upstreamAgent, inFlight);
  const toFauxqs = proxyTo(fauxqsPort, upstreamAgent, inFlight);
  const services = options.services ?? {};

  const gateway = createServer((req, res) => {
    const service = serviceOf(req);
    if (service === 'dynamodb') return toDynamo(req, res);
    const inProcess = services[service];
    if (inProcess) {
      readBody(req)
        .then((body) => inProcess(req, res, body))
        .catch((error: Error) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify({ __type: 'InternalFailure', message: error.message }));
        });
      return;
    }
    if (service === 's3') return toS3(req, res);
    return toFauxqs(req, res);
  });
  const port = await listen(gateway, options.host, options.port);

  return {
    url: `http://${options.host}:${port}`,
    onObjectCreated: (listener) => s3Store.onObjectCreated(listener),
    stop: async () => {
      await close(gateway);
      await drain(inFlight, 5_000);
      upstreamAgent.destroy();
      await fauxqs.close();
      await close(dynamo);
      await s3Store.close();
    },
  };
};
