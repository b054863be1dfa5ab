import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from '@readme/openapi-parser';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../lib/openapi/document';
import { errorCodes } from '../../lib/openapi/error-codes';
import { apiRoutes } from '../../lib/openapi/routes';
import { errorCodesOf } from '../../lib/openapi/document';

const root = join(__dirname, '../..');

const sourcesUnder = (folder: string): string[] =>
  readdirSync(join(root, folder)).flatMap((name) => {
    const path = join(folder, name);
    return statSync(join(root, path)).isDirectory() ? sourcesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });

/** Every `new <ErrorClass>('CODE'` in the handlers and lib, with the status its class maps to. */
const thrownCodes = () => {
  const statusOf: Record<string, number> = {
    InvalidInput: 400,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
  };
  const found: { code: string; status: number; file: string }[] = [];
  for (const file of [...sourcesUnder('lib'), ...sourcesUnder('functions')]) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const match of text.matchAll(
      /new (InvalidInput|Forbidden|NotFound|Conflict|PayloadTooLarge)\(\s*'([A-Z_]+)'/g,
    )) {
      found.push({ code: match[2]!, status: statusOf[match[1]!]!, file });
    }
  }
  return found;
};

/**
 * Codes that never reach an HTTP answer: they end a job (its `error`) or refuse an S3 drop, after
 * the API has answered 202.
 */
const jobOnlyCodes = new Set([
  'INVALID_SIDECAR',
  'INVALID_OPTIONS',
  'INVALID_SHARD_OPTIONS',
  'UNSUPPORTED_FORMAT',
  'MALFORMED_CSV',
]);

type Json = Record<string, unknown>;

describe('the OpenAPI document', () => {
  const document = openApiDocument() as unknown as Json;

  it('is a valid OpenAPI 3.1 document (@readme/openapi-parser)', async () => {
    // The parser dereferences in place: give it a copy.
    const result = await validate(structuredClone(document) as never);

    expect(result).toMatchObject({ valid: true, specification: 'OpenAPI' });
    expect(document.openapi).toBe('3.1.0');
  });

  it('is rejected by the same validator once broken, so the check above can fail', async () => {
    const broken = structuredClone(document) as { paths: Record<string, Json> };
    (broken.paths['/jobs']!.get as Json).responses = 'none';

    expect((await validate(broken as never)).valid).toBe(false);
  });

  it('answers every code the handlers throw on some route, under the status its error class maps to', () => {
    const documented = new Set(
      apiRoutes.flatMap((route) =>
        Object.entries(errorCodesOf(route)).flatMap(([status, codes]) =>
          codes.map((code) => `${status} ${code}`),
        ),
      ),
    );
    const missing = thrownCodes()
      .filter(({ code }) => !jobOnlyCodes.has(code))
      .filter(({ code, status }) => !documented.has(`${status} ${code}`))
      .map(({ code, status, file }) => `${status} ${code} (${file})`);

    expect(missing).toEqual([]);
  });

  it('describes every code it lists', () => {
    const listed = apiRoutes.flatMap((route) => Object.values(errorCodesOf(route)).flat());

    expect(listed.filter((code) => !(code in errorCodes))).toEqual([]);
  });

  it('documents the Idempotency-Key header of POST /jobs and needs no key for /health and itself', () => {
    const paths = document.paths as Record<string, Record<string, Json>>;
    const submit = paths['/jobs']!.post!;

    expect(submit.parameters).toContainEqual(
      expect.objectContaining({ in: 'header', name: 'Idempotency-Key' }),
    );
    expect(paths['/openapi.json']!.get!.security).toEqual([]);
    expect(paths['/health']!.get!.security).toEqual([]);
    expect(document.security).toEqual([{ apiKey: [] }]);
  });

  it('has examples that fit their own schemas', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ components: (document as { components: Json }).components }, 'doc');
    const resolve = (schema: Json) =>
      JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')) as Json;
    const failures: string[] = [];
    const check = (where: string, schema: Json, example: unknown) => {
      const fits = ajv.validate(resolve(schema), example);
      if (!fits) failures.push(`${where}: ${ajv.errorsText(ajv.errors)}`);
    };
    const components = (document as { components: { schemas: Record<string, Json> } }).components.schemas;
    for (const [name, schema] of Object.entries(components)) {
      if ('example' in schema) check(`components.${name}`, { ...schema, example: undefined }, schema.example);
    }
    let mediaExamples = 0;
    for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, Json>>)) {
      for (const [method, operation] of Object.entries(item)) {
        const bodies = [
          ['request', (operation.requestBody as Json | undefined)?.content],
          ...Object.entries(operation.responses as Record<string, Json>).map(([status, r]) => [
            status,
            r.content,
          ]),
        ] as [string, Record<string, Json> | undefined][];
        for (const [which, content] of bodies) {
          const media = content?.['application/json'];
          if (!media) continue;
          const examples = [
            ...('example' in media ? [media.example] : []),
            ...Object.values((media.examples as Record<string, { value: unknown }> | undefined) ?? {}).map(
              (e) => e.value,
            ),
          ];
          for (const example of examples) {
            mediaExamples++;
            check(`${method.toUpperCase()} ${path} ${which}`, media.schema as Json, example);
          }
        }
      }
    }

    expect(failures).toEqual([]);
    expect(mediaExamples).toBeGreaterThan(apiRoutes.length);
  });
});
