import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { NotFound } from '../lib/errors';
import { httpHandler } from './middleware';

/**
 * The console's files (console/, plain ES modules and CSS: no build step), served by the API
 * itself so that the page and the API share an origin. Read once per container; only the files
 * that are there can be asked for, so a path can never reach outside the folder.
 */
const folder = join(__dirname, '..', 'console');
const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
const files = new Map(
  readdirSync(folder)
    .filter((name) => contentTypes[extname(name)])
    .map((name) => [name, readFileSync(join(folder, name), 'utf8')]),
);

/** GET /console and GET /console/{file}. No key needed: the page asks for one and sends it to the API. */
export const handler = httpHandler(async (event) => {
  const name = event.pathParameters?.file ?? 'index.html';
  const body = files.get(name);
  if (body === undefined) throw new NotFound('NO_SUCH_FILE', `The console has no file ${name}.`);
  return {
    statusCode: 200,
    headers: {
      'content-type': contentTypes[extname(name)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      // The page loads only its own files and talks to the API it is served by.
      'content-security-policy':
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    },
    body,
  };
});
