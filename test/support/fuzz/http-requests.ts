import fc from 'fast-check';
import { loadServerlessConfig } from '../../../local/serverless-config';
import {
  modelAliasSchema,
  modelNameSchema,
  modelVersionSchema,
  registerVersionRequestSchema,
} from '../../../lib/domain/model-version';
import { createJobRequestSchema } from '../../../lib/use-cases/create-job';
import { finishRequestSchema } from '../../../lib/use-cases/register-model';
import { arbitraryFromZod } from './schema-arbitrary';

/** A request as a hostile client sends it: the path already percent-encoded, headers as sent. */
export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface ApiRoute {
  method: string;
  path: string;
}

/** Every route serverless.yml gives API Gateway, so that a route added later is fuzzed too. */
export const apiRoutes = (): ApiRoute[] =>
  Object.values(loadServerlessConfig().functions).flatMap((fn) =>
    (fn.events ?? []).flatMap(({ httpApi }) =>
      httpApi ? [{ method: httpApi.method.toUpperCase(), path: httpApi.path }] : [],
    ),
  );

/** UTF-8 percent-encoding of everything but RFC 3986's unreserved characters (lone surrogates as U+FFFD). */
export const percentEncode = (text: string) =>
  [...new TextEncoder().encode(text)]
    .map((byte) =>
      /[A-Za-z0-9._~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

/** Already-encoded text no decoder should accept or that decodes to something surprising. */
const hostileEncodings = fc.constantFrom(
  '%ED%A0%80', // a lone surrogate: not UTF-8
  '%',
  '%zz',
  '%E2%82', // a sequence cut short
  '%C0%AF', // an overlong '/'
  '%FF',
  '%00',
  '%2F',
  '%252F',
  '%2E%2E',
  '%0D%0A',
);

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '..', ' ', 'null', 'undefined', '0'),
  fc.integer({ min: 65, max: 6000 }).map((length) => 'a'.repeat(length)),
);

/** A value for a query string or path segment, encoded as it goes on the wire. */
const encodedText = fc.oneof(
  { weight: 4, arbitrary: text.map(percentEncode) },
  { weight: 1, arbitrary: hostileEncodings },
);

/** Path parameters by name: what the route's schemas accept, ids that exist, and anything at all. */
const pathParameter = (name: string, existing: { jobIds: string[] }): fc.Arbitrary<string> => {
  const plausible: Record<string, fc.Arbitrary<string>> = {
    jobId: fc.oneof(fc.uuid(), fc.constantFrom(...existing.jobIds)),
    name: fc.oneof(arbitraryFromZod(modelNameSchema) as fc.Arbitrary<string>, fc.constant('churn-risk')),
    version: fc.oneof(arbitraryFromZod(modelVersionSchema) as fc.Arbitrary<string>, fc.constant('v1')),
    alias: fc.oneof(arbitraryFromZod(modelAliasSchema) as fc.Arbitrary<string>, fc.constant('latest')),
  };
  return fc.oneof(
    { weight: 1, arbitrary: (plausible[name] ?? fc.string()).map(percentEncode) },
    { weight: 1, arbitrary: encodedText.filter((value) => value !== '') },
  );
};

const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('status', 'limit', 'cursor', 'owner', '__proto__').map(percentEncode),
        encodedText,
      ),
      fc.oneof(fc.constantFrom('running', '0', '100', '-1', '1e9', 'NaN').map(percentEncode), encodedText),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length ? `?${pairs.map(([key, value]) => `${key}=${value}`).join('&')}` : ''));

/** Header values fetch can send: Latin-1 without control characters. */
const headerValue = fc.string({
  unit: fc
    .integer({ min: 0x20, max: 0xff })
    .filter((code) => code !== 0x7f)
    .map((code) => String.fromCharCode(code)),
  minLength: 1,
  maxLength: 300,
});

/** Mostly a valid key (so that requests reach the handlers), sometimes a wrong or malformed one. */
const authorization = (apiKeys: string[]) =>
  fc.option(
    fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...apiKeys).map((key) => `Bearer ${key}`) },
      { weight: 1, arbitrary: fc.constantFrom(...apiKeys, 'not-a-key') },
      { weight: 1, arbitrary: headerValue },
    ),
    { nil: undefined, freq: 10 },
  );

const contentType = fc.option(
  fc.oneof(
    { weight: 3, arbitrary: fc.constant('application/json') },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'application/json; charset=utf-8',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/octet-stream',
        'multipart/form-data; boundary=x',
        'application/json; charset=latin1',
        'application/vnd.api+json',
      ),
    },
    { weight: 1, arbitrary: headerValue },
  ),
  { nil: undefined },
);

/** The body schema each route reads, where it has one. */
const bodySchemas: Record<string, fc.Arbitrary<unknown>> = {
  'POST /jobs': arbitraryFromZod(createJobRequestSchema),
  'POST /models/{name}/versions': arbitraryFromZod(registerVersionRequestSchema),
  'POST /models/{name}/versions/{version}/finish': arbitraryFromZod(finishRequestSchema),
  'PUT /models/{name}/aliases/{alias}': fc.record({ version: arbitraryFromZod(modelVersionSchema) }),
};

/** `{"__proto__": …, …}` and friends, as JSON text: JSON.stringify would drop them. */
const withPrototypeKey = (value: unknown) =>
  fc
    .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.jsonValue({ maxDepth: 2 }))
    .map(([key, extra]) => {
      const json = JSON.stringify(value);
      const rest = json.startsWith('{') && json !== '{}' ? `,${json.slice(1)}` : '}';
      return `{${JSON.stringify(key)}:${JSON.stringify(extra)}${rest}`;
    });

const deeplyNested = fc
  .tuple(fc.integer({ min: 100, max: 20_000 }), fc.constantFrom(['[', ']'], ['{"a":', '}']))
  .map(([depth, [open, close]]) => `${open!.repeat(depth)}1${close!.repeat(depth)}`);

const bodyFor = (routeKey: string, valid: Record<string, unknown>) => {
  const shaped = bodySchemas[routeKey] ?? fc.jsonValue({ maxDepth: 3 });
  const known = valid[routeKey];
  return fc.oneof(
    { weight: 4, arbitrary: shaped.map((value) => JSON.stringify(value)) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)) },
    { weight: 2, arbitrary: shaped.chain(withPrototypeKey) },
    { weight: 1, arbitrary: known === undefined ? shaped.chain(withPrototypeKey) : withPrototypeKey(known) },
    { weight: 1, arbitrary: deeplyNested },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  );
};

/**
 * Requests for one route: its path filled from its parameters' schemas or with hostile text, an
 * odd query string, any mix of the headers the API reads, and for a write, a body shaped by the
 * route's own schema, by nothing at all, or not JSON.
 */
export const requestsFor = (
  route: ApiRoute,
  context: { apiKeys: string[]; jobIds: string[]; validBodies: Record<string, unknown> },
): fc.Arbitrary<FuzzRequest> => {
  const routeKey = `${route.method} ${route.path}`;
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
  const parameters = fc.tuple(...names.map((name) => pathParameter(name, context)));
  const writes = route.method !== 'GET' && route.method !== 'DELETE';
  return fc
    .record({
      parameters,
      query: queryString,
      authorization: authorization(context.apiKeys),
      idempotencyKey: fc.option(fc.oneof(fc.uuid(), headerValue), { nil: undefined }),
      contentType,
      body: writes
        ? fc.option(bodyFor(routeKey, context.validBodies), { nil: undefined, freq: 8 })
        : fc.constant(undefined),
    })
    .map(({ parameters: values, query, authorization: auth, idempotencyKey, contentType: type, body }) => {
      let index = 0;
      const path = route.path.replace(/\{\w+\}/g, () => values[index++] ?? '');
      const headers: Record<string, string> = {};
      if (auth !== undefined) headers.authorization = auth;
      if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
      if (type !== undefined) headers['content-type'] = type;
      return {
        method: route.method,
        path: `${path}${query}`,
        headers,
        ...(body === undefined ? {} : { body }),
      };
    });
};
