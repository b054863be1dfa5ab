import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWorkerBundle, parseBuildScript } from '../../local/worker-bundle';

const repoScript = (
  JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts['build:worker'];

describe('parseBuildScript', () => {
  it("reads the entries, the output folder and the flags of the repository's build:worker", () => {
    const script = parseBuildScript(repoScript ?? '');

    expect(script.entryPoints).toEqual({
      worker: 'gpu-container/src/main.ts',
      'preprocess-worker': 'gpu-container/src/preprocess-worker.ts',
      'lane-worker': 'gpu-container/src/lane-worker.ts',
    });
    expect(script.outdir).toBe('gpu-container/dist');
    expect(script.flags).toEqual(expect.arrayContaining(['--bundle', '--external:onnxruntime-node']));
  });

  it('refuses a script that is not esbuild or names no worker entry', () => {
    expect(() => parseBuildScript('tsc -p .')).toThrow('not an esbuild command');
    expect(() => parseBuildScript('esbuild other=src/a.ts --bundle --outdir=dist')).toThrow('worker entry');
  });
});

describe('ensureWorkerBundle', () => {
  let root: string;
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const runBundle = (entry: string) => execFileSync(process.execPath, [entry], { encoding: 'utf8' }).trim();

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'worker-bundle-'));
    write(
      'package.json',
      JSON.stringify({
        scripts: {
          'build:worker':
            'esbuild worker=src/main.ts lane-worker=src/lane.ts --bundle --platform=node --format=cjs --outdir=dist',
        },
      }),
    );
    write('src/greeting.ts', "export const greeting = 'first';\n");
    write('src/main.ts', "import { greeting } from './greeting';\nconsole.log(greeting);\n");
    write('src/lane.ts', "console.log('lane');\n");
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('builds the bundle once, and again only when a file it was built from changed', async () => {
    const first = await ensureWorkerBundle(root);
    expect(first.built).toBe(true);
    expect(runBundle(first.entry)).toBe('first');
    expect(runBundle(join(root, 'dist/lane-worker.js'))).toBe('lane');

    expect((await ensureWorkerBundle(root)).built).toBe(false);

    write('src/greeting.ts', "export const greeting = 'second';\n");
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(root, 'src/greeting.ts'), later, later);
    const rebuilt = await ensureWorkerBundle(root);
    expect(rebuilt.built).toBe(true);
    expect(runBundle(rebuilt.entry)).toBe('second');
  });

  it('rebuilds when an output is missing', async () => {
    await ensureWorkerBundle(root);
    rmSync(join(root, 'dist/lane-worker.js'));

    expect((await ensureWorkerBundle(root)).built).toBe(true);
    expect(runBundle(join(root, 'dist/lane-worker.js'))).toBe('lane');
  });
});
