import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cachedModelFolder } from '../../gpu-container/src/model-cache';
import type { ModelCacheOptions } from '../../gpu-container/src/model-cache';
import type { ChildFixture, ChildResult } from '../support/model-cache-child';
import { ModelFileStore, modelVersionOf, sha256 } from '../support/model-files';
import type { StoredModelVersion } from '../support/model-files';

const projectRoot = join(__dirname, '../..');
const hour = 3_600_000;

let root: string;
let dir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'longtail-model-cache-'));
  dir = join(root, 'cache');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A graph and its external-data file, as a registered version holds them. */
const modelFiles = (bytes = 3000) => ({
  'model.onnx': randomBytes(bytes),
  'weights.bin': randomBytes(bytes * 2),
});

const storing = (files: Record<string, Buffer>, id?: { name: string; version: string }) => {
  const version = modelVersionOf(files, id);
  const objects = new ModelFileStore();
  objects.putVersion(version, files);
  return { version, objects };
};

const digestsOf = (files: Record<string, Buffer>) =>
  Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, sha256(bytes)]));

const digestsIn = (folder: string) =>
  Object.fromEntries(readdirSync(folder).map((name) => [name, sha256(readFileSync(join(folder, name)))]));

const options = (objects: ModelFileStore, more: Partial<ModelCacheOptions> = {}): ModelCacheOptions => ({
  dir,
  maxBytes: 2 ** 30,
  objects,
  ...more,
});

const waitFor = async (condition: () => boolean, what: string, timeoutMs = 10_000) => {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await sleep(10);
  }
};

const setUsedAt = (path: string, at: number) => utimesSync(path, new Date(at), new Date(at));

describe('cachedModelFolder', () => {
  it('downloads a version once into a folder named by its checksum, and hands out that folder again', async () => {
    const files = modelFiles();
    const { version, objects } = storing(files);

    const first = await cachedModelFolder(version, options(objects));
    const second = await cachedModelFolder(version, options(objects));

    expect(first).toBe(join(dir, version.checksum));
    expect(second).toBe(first);
    expect(digestsIn(first)).toEqual(digestsOf(files));
    expect(objects.reads).toHaveLength(2);
  });

  it('downloads once when two calls in one process ask for a version at the same time', async () => {
    const { version, objects } = storing(modelFiles());

    const [a, b] = await Promise.all([
      cachedModelFolder(version, options(objects)),
      cachedModelFolder(version, options(objects)),
    ]);

    expect(a).toBe(b);
    expect(objects.reads).toHaveLength(2);
  });

  it('uses a version an earlier process completed, without downloading it', async () => {
    const files = modelFiles();
    const { version, objects } = storing(files);
    const folder = join(dir, version.checksum);
    mkdirSync(folder, { recursive: true });
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(folder, name), bytes);

    await expect(cachedModelFolder(version, options(objects))).resolves.toBe(folder);

    expect(objects.reads).toEqual([]);
  });

  it('shows the version folder only once every file of it is downloaded', async () => {
    const files = modelFiles();
    const { version, objects } = storing(files);
    const letGo = objects.holdBack('weights.bin');

    const fetching = cachedModelFolder(version, options(objects));
    await waitFor(
      () => objects.reads.some((key) => key.endsWith('weights.bin')),
      'the second file to be asked for',
    );
    const duringDownload = readdirSync(dir);
    letGo();
    const folder = await fetching;

    expect(duringDownload).not.toContain(version.checksum);
    expect(duringDownload.filter((name) => name.startsWith('.partial-'))).toHaveLength(1);
    expect(digestsIn(folder)).toEqual(digestsOf(files));
  });

  it('never hands out a partial download another process left behind', async () => {
    const files = modelFiles();
    const { version, objects } = storing(files);
    const partial = join(dir, `.partial-${version.checksum}-left0behind`);
    mkdirSync(partial, { recursive: true });
    writeFileSync(join(partial, 'model.onnx'), files['model.onnx'].subarray(0, 100));

    const folder = await cachedModelFolder(version, options(objects));

    expect(folder).toBe(join(dir, version.checksum));
    expect(digestsIn(folder)).toEqual(digestsOf(files));
  });

  it('fails with ChecksumMismatch on bytes that are not the registered ones, caches nothing and leaves no lock', async () => {
    const files = modelFiles();
    const { version, objects } = storing(files);
    objects.putVersion(version, { 'weights.bin': randomBytes(files['weights.bin'].length) });

    await expect(cachedModelFolder(version, options(objects))).rejects.toMatchObject({
      name: 'ChecksumMismatch',
      code: 'CHECKSUM_MISMATCH',
    });
    expect(readdirSync(dir)).toEqual([]);
    // Not remembered as failed either: the next call downloads again.
    await expect(cachedModelFolder(version, options(objects))).rejects.toMatchObject({
      name: 'ChecksumMismatch',
    });
    expect(objects.reads).toHaveLength(4);
  });

  it('refuses a version whose checksum is not the one of its files, before reading anything', async () => {
    const { version, objects } = storing(modelFiles());

    await expect(
      cachedModelFolder({ ...version, checksum: 'f'.repeat(64) }, options(objects)),
    ).rejects.toMatchObject({ name: 'ChecksumMismatch', code: 'CHECKSUM_MISMATCH' });
    expect(objects.reads).toEqual([]);
    expect(existsSync(join(dir, 'f'.repeat(64)))).toBe(false);
  });

  it('marks a version used each time this process asks for it', async () => {
    const { version, objects } = storing(modelFiles());
    const folder = await cachedModelFolder(version, options(objects));
    setUsedAt(folder, Date.now() - 5 * hour);

    await cachedModelFolder(version, options(objects));

    expect(Date.now() - statSync(folder).mtimeMs).toBeLessThan(60_000);
  });

  it('refreshes its lock while it downloads, so that waiters do not take it for abandoned', async () => {
    const { version, objects } = storing(modelFiles());
    const letGo = objects.holdBack('weights.bin');
    let clock = Date.now();
    const lock = join(dir, `${version.checksum}.lock`);

    const fetching = cachedModelFolder(version, options(objects, { heartbeatMs: 20, now: () => clock }));
    await waitFor(() => objects.reads.length === 2, 'the download to be under way');
    clock += hour;
    await waitFor(() => statSync(lock).mtimeMs >= clock - 1000, 'the lock to be refreshed');
    letGo();
    await fetching;

    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock that nobody refreshed for staleLockMs', async () => {
    const { version, objects } = storing(modelFiles());
    const lock = join(dir, `${version.checksum}.lock`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      lock,
      JSON.stringify({ pid: process.pid, scope: 'another container', since: '2026-01-01' }),
    );
    setUsedAt(lock, Date.now() - hour);

    const folder = await cachedModelFolder(version, options(objects, { lockWaitMs: 2000 }));

    expect(folder).toBe(join(dir, version.checksum));
    expect(existsSync(lock)).toBe(false);
  });

  it('waits for a live holder, and gives up with LockTimeout after lockWaitMs, leaving its lock alone', async () => {
    const { version, objects } = storing(modelFiles());
    const lock = join(dir, `${version.checksum}.lock`);
    const holder = JSON.stringify({ pid: process.pid, scope: 'another container', since: '2026-01-01' });
    mkdirSync(dir, { recursive: true });
    writeFileSync(lock, holder);

    await expect(
      cachedModelFolder(version, options(objects, { lockWaitMs: 300, pollMs: 20 })),
    ).rejects.toMatchObject({ name: 'LockTimeout', code: 'LOCK_TIMEOUT' });
    expect(readFileSync(lock, 'utf8')).toBe(holder);
    expect(objects.reads).toEqual([]);
  });

  it('evicts the least recently used versions until the cache is within its cap, and fetches one again when asked', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((name) =>
      storing({ 'model.onnx': randomBytes(100) }, { name, version: '1' }),
    );
    const cap = options(a!.objects, { maxBytes: 250 });
    const folderA = await cachedModelFolder(a!.version, { ...cap, objects: a!.objects });
    const folderB = await cachedModelFolder(b!.version, { ...cap, objects: b!.objects });
    setUsedAt(folderA, Date.now() - 3 * hour);
    setUsedAt(folderB, Date.now() - 2 * hour);

    const folderC = await cachedModelFolder(c!.version, { ...cap, objects: c!.objects });

    expect([existsSync(folderA), existsSync(folderB), existsSync(folderC)]).toEqual([false, true, true]);
    await expect(cachedModelFolder(a!.version, { ...cap, objects: a!.objects })).resolves.toBe(folderA);
    expect(a!.objects.reads).toHaveLength(2);
  });

  it('never evicts a version used within staleLockMs, nor the one just fetched, though the cap is exceeded', async () => {
    const [a, b] = ['a', 'b'].map((name) =>
      storing({ 'model.onnx': randomBytes(100) }, { name, version: '1' }),
    );
    const folderA = await cachedModelFolder(a!.version, options(a!.objects, { maxBytes: 50 }));

    const folderB = await cachedModelFolder(b!.version, options(b!.objects, { maxBytes: 50 }));

    expect([existsSync(folderA), existsSync(folderB)]).toEqual([true, true]);
  });

  it('keeps the version just fetched past the cap even when the process stalled for longer than staleLockMs', async () => {
    const files = modelFiles();
    const { version, objects } = storing(files);
    // Every look at the clock finds it 20 minutes later: as if the process was stopped in between.
    let clock = Date.now();
    const stalling = () => (clock += 20 * 60_000);

    const folder = await cachedModelFolder(version, options(objects, { maxBytes: 50, now: stalling }));

    expect(digestsIn(folder)).toEqual(digestsOf(files));
  });

  it('clears partial downloads and trash that no live process refreshed for staleLockMs', async () => {
    const { version, objects } = storing(modelFiles());
    const scratch = ['.partial-old', '.trash-old', '.partial-fresh'].map((name) => join(dir, `${name}-x`));
    for (const path of scratch) mkdirSync(path, { recursive: true });
    setUsedAt(scratch[0]!, Date.now() - hour);
    setUsedAt(scratch[1]!, Date.now() - hour);

    await cachedModelFolder(version, options(objects));

    expect(scratch.map((path) => existsSync(path))).toEqual([false, false, true]);
  });

  it('refuses a heartbeat too slow for staleLockMs, which would let waiters take over a live download', async () => {
    const { version, objects } = storing(modelFiles());

    await expect(
      cachedModelFolder(version, options(objects, { heartbeatMs: 60_000, staleLockMs: 120_000 })),
    ).rejects.toThrow(/heartbeat/);
  });
});

describe('cachedModelFolder across processes', () => {
  const childScript = join(projectRoot, 'test/support/model-cache-child.ts');

  /** A worker process fetching the version through a slow store that logs its reads to `readLog`. */
  const startWorker = (fixture: string, readLog: string, mode?: 'stall') => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', childScript, fixture, dir, readLog, ...(mode ? [mode] : [])],
      // Its logs would mix with the result it prints.
      {
        cwd: projectRoot,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    return {
      child,
      exited,
      ready: () => waitFor(() => stdout.startsWith('ready\n'), 'a worker to start', 20_000),
      go: () => child.stdin.write('go\n'),
      result: async (): Promise<ChildResult> => {
        const code = await exited;
        if (code !== 0) throw new Error(`A worker exited with ${code}: ${stderr}`);
        return JSON.parse(stdout.split('\n')[1] ?? '') as ChildResult;
      },
    };
  };

  const writeFixture = (version: StoredModelVersion, files: Record<string, Buffer>) => {
    const path = join(root, 'fixture.json');
    const fixture: ChildFixture = {
      version,
      files: Object.fromEntries(
        Object.entries(files).map(([name, bytes]) => [name, bytes.toString('base64')]),
      ),
    };
    writeFileSync(path, JSON.stringify(fixture));
    return path;
  };

  it('downloads once when two processes race for a version, and both get every file complete', async () => {
    const files = modelFiles(60_000);
    const version = modelVersionOf(files);
    const fixture = writeFixture(version, files);
    const readLog = join(root, 'reads.log');
    const workers = [startWorker(fixture, readLog), startWorker(fixture, readLog)];
    await Promise.all(workers.map((worker) => worker.ready()));

    for (const worker of workers) worker.go();
    const results = await Promise.all(workers.map((worker) => worker.result()));

    const reads = readFileSync(readLog, 'utf8').trim().split('\n');
    expect(reads).toHaveLength(2);
    expect(new Set(reads.map((line) => line.split(' ')[0])).size).toBe(1);
    for (const result of results) {
      expect(result).toEqual({ folder: join(dir, version.checksum), digests: digestsOf(files) });
    }
  }, 60_000);

  it('takes over the lock of a worker killed mid-download at once, without waiting for it to go stale', async () => {
    const files = modelFiles();
    const { version, objects } = storing(files);
    const stalled = startWorker(writeFixture(version, files), join(root, 'reads.log'), 'stall');
    await stalled.ready();
    stalled.go();
    await waitFor(
      () => existsSync(dir) && readdirSync(dir).some((name) => name.startsWith('.partial-')),
      'the worker to start downloading',
      20_000,
    );
    stalled.child.kill('SIGKILL');
    await stalled.exited;

    const folder = await cachedModelFolder(version, options(objects, { lockWaitMs: 10_000 }));

    expect(digestsIn(folder)).toEqual(digestsOf(files));
    expect(objects.reads).toHaveLength(2);
    expect(existsSync(join(dir, `${version.checksum}.lock`))).toBe(false);
  }, 60_000);
});
