import { randomUUID } from 'node:crypto';
import { STATUS_CODES, createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { LocalLambdas } from './lambda-runtime';
import type { ServerlessConfig } from './serverless-config';

interface Route {
  method: string;
  pattern: RegExp;
  parameterNames: string[];
  routeKey: string;
  functionName: string;
  authorizer?: { functionName: string; identityHeader: string };
}

/** API Gateway HTTP APIs accept at most 10 MB bodies. */
const maxBodyBytes = 10 * 1024 * 1024;

const routesOf = (config: ServerlessConfig): Route[] =>
  Object.values(config.functions).flatMap((fn) =>
    (fn.events ?? []).flatMap(({ httpApi }) => {
      if (!httpApi) return [];
      const parameterNames: string[] = [];
      const pattern = new RegExp(
        `^${httpApi.path.replace(/\{(\w+)\}/g, (_, name: string) => {
          parameterNames.push(name);
          return '([^/]+)';
        })}$`,
      );
      const authorizerConfig =
        httpApi.authorizer && config.provider.httpApi?.authorizers?.[httpApi.authorizer.name];
      const identitySource = authorizerConfig?.identitySource[0] ?? '';
      return [
        {
          method: httpApi.method.toUpperCase(),
          pattern,
          parameterNames,
          routeKey: `${httpApi.method.toUpperCase()} ${httpApi.path}`,
          functionName: fn.name,
          ...(authorizerConfig
            ? {
                authorizer: {
                  functionName: authorizerConfig.functionName,
                  identityHeader: identitySource.replace('$request.header.', '').toLowerCase(),
                },
              }
            : {}),
        },
      ];
    }),
  );

const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
};

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer | undefined>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

const isTextual = (contentType: string | undefined) =>
  !contentType ||
  /^(text\/|application\/(json|x-www-form-urlencoded|xml|.*\+json|x-ndjson))/i.test(contentType);

/**
 * The request target as a URL. The target is a path (`//host/…` is a path too, not another
 * host); anything that does not parse as one is the client's mistake.
 */
const requestUrl = (target: string): URL | undefined => {
  try {
    return new URL(target.startsWith('/') ? `http://local${target}` : target);
  } catch {
    return undefined;
  }
};

/**
 * Path parameters as API Gateway hands them to Lambda: percent-decoded. Undefined when one does
 * not decode (a stray `%`, or bytes that are not UTF-8, such as `%ED%A0%80`, a lone surrogate).
 */
const decodePathParameters = (
  names: string[],
  match: RegExpExecArray,
): Record<string, string> | undefined => {
  try {
    return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]));
  } catch {
    return undefined;
  }
};

/**
 * AWS documents that HTTP APIs decode path parameters, not what they answer when one cannot be
 * decoded; this answers the client's mistake with a 400 in the API's error envelope.
 */
const malformedPath = JSON.stringify({
  error: { code: 'MALFORMED_PATH', message: 'The request path is not a valid, percent-encoded UTF-8 path.' },
});

/**
 * A request Node cannot even parse (headers over its limit, a malformed request line) is answered
 * here, in the API's error envelope, rather than with Node's bare status line.
 */
const answerUnreadable = (error: NodeJS.ErrnoException, socket: Duplex) => {
  if (!socket.writable) return socket.destroy();
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify({
    error: tooLarge
      ? { code: 'REQUEST_HEADERS_TOO_LARGE', message: 'The request line and headers are too large.' }
      : { code: 'MALFORMED_REQUEST', message: 'The request is not valid HTTP.' },
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
};

/**
 * API Gateway (HTTP API, payload 2.0) for the local runtime: the routes serverless.yml
 * declares, its Lambda authorizer (401 without the identity header, 403 when the authorizer
 * says no, as API Gateway answers), and Lambda proxy responses.
 */
export const startHttpApi = async (
  config: ServerlessConfig,
  lambdas: LocalLambdas,
  options: { host: string; port: number },
): Promise<{ url: string; stop: () => Promise<void> }> => {
  const routes = routesOf(config);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = requestUrl(req.url ?? '/');
    if (!url) return send(res, 400, malformedPath);
    const method = req.method ?? 'GET';
    let route: Route | undefined;
    let match: RegExpExecArray | null = null;
    for (const candidate of routes) {
      if (candidate.method !== method) continue;
      match = candidate.pattern.exec(url.pathname);
      if (match) {
        route = candidate;
        break;
      }
    }
    if (!route || !match) return send(res, 404, JSON.stringify({ message: 'Not Found' }));
    const pathParameters = decodePathParameters(route.parameterNames, match);
    if (!pathParameters) return send(res, 400, malformedPath);

    const body = await readBody(req);
    if (body === undefined) return send(res, 413, JSON.stringify({ message: 'Request Entity Too Large' }));

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const queryStringParameters: Record<string, string> = {};
    for (const key of new Set(url.searchParams.keys()))
      queryStringParameters[key] = url.searchParams.getAll(key).join(',');
    const now = new Date();
    const requestContext = {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    };

    let authorizer: { lambda: Record<string, unknown> } | undefined;
    if (route.authorizer) {
      const identity = headers[route.authorizer.identityHeader];
      if (!identity) return send(res, 401, JSON.stringify({ message: 'Unauthorized' }));
      const decision = (await lambdas.invoke(route.authorizer.functionName, {
        version: '2.0',
        type: 'REQUEST',
        routeArn: `arn:aws:execute-api:local:000000000000:local/$default/${method}${url.pathname}`,
        identitySource: [identity],
        routeKey: route.routeKey,
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        queryStringParameters,
        pathParameters,
        requestContext,
      })) as { isAuthorized?: boolean; context?: Record<string, unknown> };
      if (!decision.isAuthorized) return send(res, 403, JSON.stringify({ message: 'Forbidden' }));
      authorizer = { lambda: decision.context ?? {} };
    }

    const textual = isTextual(headers['content-type']);
    const event = {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      ...(Object.keys(queryStringParameters).length ? { queryStringParameters } : {}),
      ...(route.parameterNames.length ? { pathParameters } : {}),
      requestContext: { ...requestContext, ...(authorizer ? { authorizer } : {}) },
      ...(body.length ? { body: textual ? body.toString('utf8') : body.toString('base64') } : {}),
      isBase64Encoded: body.length > 0 && !textual,
    };
    const result = (await lambdas.invoke(route.functionName, event)) as
      | { statusCode?: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean }
      | undefined;
    if (result && typeof result === 'object' && 'statusCode' in result) {
      const payload = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
      res.writeHead(result.statusCode ?? 200, result.headers ?? {});
      res.end(payload);
      return;
    }
    send(res, 200, JSON.stringify(result ?? null));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, JSON.stringify({ message: 'Internal Server Error' }));
      else res.end();
    });
  });
  server.on('clientError', answerUnreadable);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
