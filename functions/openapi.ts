import { openApiDocument } from '../lib/openapi/document';
import { apiBaseUrl, httpHandler, json } from './middleware';
import type { HttpEvent } from './middleware';

/** Generated once per container: the schemas do not change while it runs. */
let document: ReturnType<typeof openApiDocument> | undefined;

/**
 * GET /openapi.json: the API's OpenAPI 3.1 document, generated from the zod schemas the handlers
 * validate with. No API key: a client generator or a browser needs it before it has one.
 */
export const handler = httpHandler(async (event: HttpEvent) => {
  document ??= openApiDocument();
  return json(
    200,
    { ...document, servers: [{ url: apiBaseUrl(event) }] },
    { 'cache-control': 'max-age=300' },
  );
});
