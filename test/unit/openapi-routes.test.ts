import { loadServerlessConfig } from '../../local/serverless-config';
import { apiRoutes } from '../../lib/openapi/routes';
import { openApiDocument } from '../../lib/openapi/document';

/** Every httpApi route serverless.yml deploys, as `METHOD /path`, and whether it needs a key. */
const deployedRoutes = () => {
  const config = loadServerlessConfig();
  return new Map(
    Object.values(config.functions).flatMap((fn) =>
      (fn.events ?? []).flatMap(({ httpApi }) =>
        httpApi
          ? [[`${httpApi.method.toUpperCase()} ${httpApi.path}`, Boolean(httpApi.authorizer)] as const]
          : [],
      ),
    ),
  );
};

const documentedRoutes = () =>
  new Map(apiRoutes.map((route) => [`${route.method.toUpperCase()} ${route.path}`, route.auth] as const));

describe('the OpenAPI route table against serverless.yml', () => {
  it('documents every route serverless.yml deploys (add the new route to lib/openapi/routes.ts)', () => {
    const documented = documentedRoutes();
    const missing = [...deployedRoutes().keys()].filter((route) => !documented.has(route));

    if (missing.length > 0) {
      throw new Error(
        `serverless.yml deploys ${missing.join(', ')} but the OpenAPI document has no entry for ${missing.length > 1 ? 'them' : 'it'}: ` +
          'add each to apiRoutes in lib/openapi/routes.ts (its zod schemas, responses and error codes), then run `npm run openapi`.',
      );
    }
    expect(missing).toEqual([]);
  });

  it('documents no route serverless.yml does not deploy', () => {
    const deployed = deployedRoutes();
    const extra = [...documentedRoutes().keys()].filter((route) => !deployed.has(route));

    expect(extra).toEqual([]);
  });

  it('asks for an API key exactly where serverless.yml puts the authorizer', () => {
    const documented = documentedRoutes();
    const mismatched = [...deployedRoutes()].filter(([route, auth]) => documented.get(route) !== auth);

    expect(mismatched).toEqual([]);
    expect(deployedRoutes().get('GET /openapi.json')).toBe(false);
  });

  it('gives each operation a unique id, and the document an operation per route', () => {
    const ids = apiRoutes.map((route) => route.operationId);
    const document = openApiDocument();
    const operations = Object.values(document.paths ?? {}).flatMap((item) =>
      (['get', 'post', 'put', 'delete'] as const).flatMap((method) => (item[method] ? [item[method]] : [])),
    );

    expect(new Set(ids).size).toBe(ids.length);
    expect(operations.map((operation) => operation.operationId).sort()).toEqual([...ids].sort());
  });
});
