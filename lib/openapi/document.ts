import { z } from 'zod';
import { createDocument } from 'zod-openapi';
import type {
  ZodOpenApiOperationObject,
  ZodOpenApiPathsObject,
  ZodOpenApiResponsesObject,
} from 'zod-openapi';
import { errorCodes, errorEnvelopeOf, gatewayErrorSchema } from './error-codes';
import type { ErrorCode } from './error-codes';
import { apiRoutes } from './routes';
import type { ApiRoute } from './routes';

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the route table (./routes.ts) and so
 * from the zod schemas the handlers validate with: never written by hand. Served at
 * `GET /openapi.json` (functions/openapi.ts) and written to openapi.json by `npm run openapi`.
 */

const statusText: Record<number, string> = {
  400: 'The request is not valid.',
  403: 'The caller may not do this.',
  404: 'Not found.',
  409: 'The request conflicts with the current state.',
  413: 'The body is too large.',
  415: 'The body is not JSON.',
  500: 'Something went wrong on the API’s side.',
};

/** The codes every route answers through the middleware stack (functions/middleware.ts), by status. */
const stackErrorsOf = (route: ApiRoute): Partial<Record<number, ErrorCode[]>> => ({
  400: [
    ...(route.params ? (['INVALID_PATH_PARAMETER'] as const) : []),
    ...(route.body ? (['MALFORMED_JSON'] as const) : []),
  ],
  ...(route.body ? { 413: ['PAYLOAD_TOO_LARGE'], 415: ['UNSUPPORTED_MEDIA_TYPE'] } : {}),
  500: ['INTERNAL_ERROR'],
});

/** Each status's codes: the route's own, then the stack's. */
export const errorCodesOf = (route: ApiRoute): Record<number, ErrorCode[]> => {
  const merged: Record<number, ErrorCode[]> = {};
  for (const source of [route.errors ?? {}, stackErrorsOf(route)]) {
    for (const [status, codes] of Object.entries(source)) {
      if (!codes?.length) continue;
      merged[Number(status)] = [...new Set([...(merged[Number(status)] ?? []), ...codes])];
    }
  }
  return merged;
};

const errorResponse = (status: number, codes: ErrorCode[]) => ({
  description: `${statusText[status] ?? 'Error.'} \`error.code\` is one of: ${codes
    .map((code) => `${code} (${errorCodes[code]})`)
    .join('; ')}`,
  content: {
    'application/json': {
      schema: errorEnvelopeOf(codes as [ErrorCode, ...ErrorCode[]]),
      examples: Object.fromEntries(
        codes.map((code) => [code, { value: { error: { code, message: errorCodes[code] } } }]),
      ),
    },
  },
});

const gatewayResponse = (status: 401 | 403) => ({
  description:
    status === 401
      ? 'No `Authorization: Bearer <key>` header (answered by API Gateway).'
      : 'The API key was not accepted (answered by API Gateway).',
  content: {
    'application/json': {
      schema: gatewayErrorSchema,
      example: { message: status === 401 ? 'Unauthorized' : 'Forbidden' },
    },
  },
});

/** A 403 from API Gateway (the key) or from the handler (what the key's owner may do). */
const gatewayOrHandler403 = (codes: ErrorCode[]) => {
  const handler = errorResponse(403, codes);
  return {
    description: `${gatewayResponse(403).description} Or: ${handler.description}`,
    content: {
      'application/json': {
        schema: z.union([gatewayErrorSchema, handler.content['application/json'].schema]),
        examples: {
          ...handler.content['application/json'].examples,
          gateway: { value: { message: 'Forbidden' } },
        },
      },
    },
  };
};

const operationOf = (route: ApiRoute): ZodOpenApiOperationObject => {
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, response] of Object.entries(route.responses)) {
    responses[status as `${1 | 2 | 3 | 4 | 5}${string}`] = {
      description: response.description,
      ...(response.headers ? { headers: response.headers } : {}),
      content: Object.fromEntries(
        (response.mediaTypes ?? ['application/json']).map((type) => [type, { schema: response.schema }]),
      ),
    };
  }
  for (const [status, codes] of Object.entries(errorCodesOf(route))) {
    // A route that describes a status itself (the readiness routes' 400) keeps its own.
    if (route.responses[Number(status)]) continue;
    responses[status as `${1 | 2 | 3 | 4 | 5}${string}`] = errorResponse(Number(status), codes);
  }
  if (route.auth) {
    responses['401'] = gatewayResponse(401);
    const handlers403 = errorCodesOf(route)[403];
    responses['403'] = handlers403 ? gatewayOrHandler403(handlers403) : gatewayResponse(403);
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    ...(route.auth ? {} : { security: [] }),
    ...(route.params || route.query || route.headers
      ? {
          requestParams: {
            ...(route.params ? { path: route.params } : {}),
            ...(route.query ? { query: route.query } : {}),
            ...(route.headers ? { header: route.headers } : {}),
          },
        }
      : {}),
    ...(route.body
      ? {
          requestBody: {
            required: route.body.required,
            content: { 'application/json': { schema: route.body.schema, example: route.body.example } },
          },
        }
      : {}),
    responses,
  };
};

/** The routes' paths and operations, merged per path. */
const pathsOf = (routes: ApiRoute[]): ZodOpenApiPathsObject => {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes)
    paths[route.path] = { ...paths[route.path], [route.method]: operationOf(route) };
  return paths;
};

const safeIntegerBound = Number.MAX_SAFE_INTEGER;

/**
 * What zod writes that only adds noise to a document: the regex behind `format: date-time` (the
 * format says it), zod's own `starts_with` format (its pattern says it), and ±2^53 bounds on
 * integers (JSON Schema's integers need none).
 */
const tidySchema = ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
  if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
  if (jsonSchema.format === 'starts_with') delete jsonSchema.format;
  if (jsonSchema.type === 'integer') {
    if (jsonSchema.maximum === safeIntegerBound) delete jsonSchema.maximum;
    if (jsonSchema.minimum === -safeIntegerBound) delete jsonSchema.minimum;
  }
};

export const apiVersion = '0.1.0';

/** The document; with `serverUrl`, it names the server it is served from. */
export const openApiDocument = (options: { serverUrl?: string } = {}) =>
  createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'Longtail',
        version: apiVersion,
        description:
          'Asynchronous and batch ML inference: submit records or an S3 input to a model, watch the job, read its outputs. ' +
          'Every error a handler answers is `{ "error": { "code", "message", "details"? } }`.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
      security: [{ apiKey: [] }],
      tags: [
        { name: 'jobs', description: 'Submit, watch, cancel and retry inference jobs.' },
        { name: 'models', description: 'The model registry: versions, uploads, aliases.' },
        {
          name: 'open-inference',
          description: 'Model metadata and readiness as the Open Inference Protocol serves them.',
        },
        {
          name: 'operator',
          description:
            'The operator console: its page and files (no key), and the views it reads (an operator’s key, LONGTAIL_OPERATORS).',
        },
        { name: 'service', description: 'Liveness and this document; no API key needed.' },
      ],
      paths: pathsOf(apiRoutes),
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key: `Authorization: Bearer <key>`.',
          },
        },
      },
    },
    { override: tidySchema },
  );
