import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * openapi.json and cli/api.generated.ts are committed, generated from the zod schemas by
 * `npm run openapi` (scripts/openapi.ts): this fails while either differs from what the schemas
 * give now, so a schema change cannot ship without the client's types following it.
 */

const root = join(__dirname, '../..');
const run = promisify(execFile);
// tsx compiles the script and openapi-typescript renders the types: seconds on a loaded machine.
jest.setTimeout(60_000);

const check = (folder?: string) =>
  run(join(root, 'node_modules/.bin/tsx'), [
    join(root, 'scripts/openapi.ts'),
    '--check',
    ...(folder ? ['--root', folder] : []),
  ]).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
  );

describe('the generated OpenAPI document and client types', () => {
  it('are what `npm run openapi` generates from the schemas now', async () => {
    const result = await check();

    expect(result).toEqual({ code: 0, stderr: '' });
  });

  it('are reported stale, by name, when a committed copy differs', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'longtail-openapi-'));
    try {
      mkdirSync(join(folder, 'cli'));
      cpSync(join(root, 'openapi.json'), join(folder, 'openapi.json'));
      writeFileSync(join(folder, 'cli/api.generated.ts'), 'export interface paths {}\n');

      const result = await check(folder);

      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Stale: cli/api.generated.ts. Run `npm run openapi`');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('give users a client they import as longtail/client (package.json exports)', async () => {
    const program = [
      "import { LongtailClient } from 'longtail/client';",
      "const client = new LongtailClient({ apiUrl: 'http://127.0.0.1:9', apiKey: 'k' });",
      'console.log(client.apiUrl, typeof client.submitJob, typeof client.api.GET);',
    ].join('\n');

    const { stdout } = await run(join(root, 'node_modules/.bin/tsx'), ['-e', program], { cwd: root });

    expect(stdout.trim()).toBe('http://127.0.0.1:9 function function');
  });
});
