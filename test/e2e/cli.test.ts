import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LongtailClient } from '../../cli/client';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { apiKeys, useLocalStack } from '../support/local-stack';
import { startDroppingProxy } from '../support/dropping-proxy';
import { buildTwoInputModel } from '../support/onnx-models';

// Each test runs the CLI several times as a child process (tsx compiles it at each start): on a
// loaded machine a test takes more than jest's default 5 s.
jest.setTimeout(60_000);

const root = join(__dirname, '../..');
const bin = join(root, 'bin/longtail.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A port nothing listens on: an API or an S3 endpoint that is down. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe('the longtail CLI', () => {
  const local = useLocalStack();
  const folder = mkdtempSync(join(tmpdir(), 'longtail-cli-'));
  const api = () => new LongtailClient({ apiUrl: local.stack.apiUrl, apiKey: apiKeys.alice });

  /** The environment a user of the test stack would export; `overrides` undefined removes one. */
  const envFor = (overrides: Record<string, string | undefined> = {}) => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      LONGTAIL_API_URL: local.stack.apiUrl,
      LONGTAIL_API_KEY: apiKeys.alice,
      LONGTAIL_INPUTS_BUCKET: local.stack.names.inputsBucket,
      LONGTAIL_CONFIG: join(folder, 'no-profiles.json'),
      LONGTAIL_PROFILE: undefined,
      AWS_ENDPOINT_URL: local.stack.awsEndpoint,
      AWS_REGION: local.stack.region,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      NO_COLOR: '1',
      ...overrides,
    };
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
    return env as NodeJS.ProcessEnv;
  };

  /** Runs `longtail <args>` as a user types it (no terminal), answering its exit code and output. */
  const longtail = (args: string[], env: Record<string, string | undefined> = {}) =>
    new Promise<Run>((resolve) => {
      execFile(
        process.execPath,
        [bin, ...args],
        { cwd: folder, env: envFor(env), timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  const writeCustomers = (name: string, count: number, badLines = 0) => {
    const path = join(folder, name);
    const bad = Array.from({ length: badLines }, (_, i) =>
      JSON.stringify({ customer_id: `bad-${i}`, tenure_months: 'x' }),
    );
    writeFileSync(path, toJsonLines(demoCustomers(count, 3)) + bad.map((line) => `${line}\n`).join(''));
    return path;
  };

  const expectOneCleanLine = (stderr: string) => {
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  };

  let finishedJobId = '';

  it('uploads a local file, follows the job with progress lines and saves its results', async () => {
    const input = writeCustomers('customers.jsonl', 300, 2);

    const run = await longtail([
      'submit',
      input,
      '--model',
      'churn-risk',
      '--wait',
      '--out',
      'results.jsonl',
    ]);

    expect(run.code).toBe(0);
    finishedJobId = run.stdout.split('\n')[0]!;
    expect(finishedJobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.stderr).toMatch(/^Uploading .*customers\.jsonl .* to s3:\/\//m);
    expect(run.stderr).toMatch(/^completed\s+302\/302 records\s+2 failed\s+shards \d+\/\d+/m);
    expect(run.stdout).toContain('300 of 302 records succeeded, 2 failed');
    const results = readFileSync(join(folder, 'results.jsonl'), 'utf8').trim().split('\n');
    expect(results).toHaveLength(300);
    expect(JSON.parse(results[0]!)).toHaveProperty('label');
  });

  it('prints JSON that scripts can parse, for submit, list and get', async () => {
    const input = writeCustomers('few.jsonl', 5);

    const submitted = await longtail(['--json', 'submit', input, '-m', 'churn-risk']);
    const { jobId } = JSON.parse(submitted.stdout) as { jobId: string };
    const listed = await longtail(['jobs', 'list', '--json', '--limit', '5']);
    const got = await longtail(['jobs', 'get', jobId, '--json']);

    expect(submitted.code).toBe(0);
    const page = JSON.parse(listed.stdout) as { jobs: { jobId: string }[] };
    expect(page.jobs.map((job) => job.jobId)).toContain(jobId);
    expect(JSON.parse(got.stdout)).toMatchObject({ jobId, model: 'churn-risk', input: { type: 's3' } });
  });

  it('lists jobs as a table for people', async () => {
    const run = await longtail(['jobs', 'list']);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/JOB\s.*STATUS\s.*MODEL/);
    expect(run.stdout).toContain(finishedJobId);
  });

  it('shows the failed records and runs them again with retry-failed', async () => {
    const failures = await longtail(['jobs', 'failures', finishedJobId, '--head', '1']);
    const retried = await longtail(['jobs', 'retry-failed', finishedJobId, '--json', '--wait']);

    expect(failures.code).toBe(0);
    expect(failures.stdout.trim().split('\n')).toHaveLength(1);
    expect(failures.stdout).toContain('bad-0');
    // The retried records are as bad as before: the new job fails them all, and says so.
    expect(retried.code).toBe(2);
    expect(JSON.parse(retried.stdout)).toMatchObject({ parentJobId: finishedJobId, status: 'failed' });
    expect(JSON.parse(retried.stdout)).toMatchObject({ error: { code: 'ALL_RECORDS_FAILED' } });
    expect(retried.stderr).toContain('First failed records');
  });

  it('cancels a job, and watching a cancelled job exits 3', async () => {
    const input = writeCustomers('big.jsonl', 60_000);
    const submitted = await longtail([
      'submit',
      input,
      '-m',
      'churn-risk',
      '--options',
      '{"shardSizeMB":1,"maxShards":6}',
    ]);
    const jobId = submitted.stdout.trim();

    const cancelled = await longtail(['jobs', 'cancel', jobId, '--json']);
    const watched = await longtail(['jobs', 'watch', jobId]);

    expect(JSON.parse(cancelled.stdout)).toMatchObject({ jobId, status: 'cancelled' });
    expect(watched.code).toBe(3);
    expect(watched.stdout).toContain('cancelled');
  });

  it('leaves the job running on Ctrl-C and says how to watch it again', async () => {
    const input = writeCustomers('ctrl-c.jsonl', 60_000);
    const child = spawn(
      process.execPath,
      [bin, 'submit', input, '-m', 'churn-risk', '--wait', '--options', '{"shardSizeMB":1,"maxShards":6}'],
      { cwd: folder, env: envFor() },
    );
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // Interrupted once the job is being watched, as a user would.
      if (!interrupted && /^(pending|running)\s/m.test(stderr)) interrupted = child.kill('SIGINT');
    });

    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    expect(code).toBe(130);
    const jobId = stdout.trim();
    expect(stderr).toContain(`longtail jobs watch ${jobId}`);
    expect((await api().getJob(jobId)).status).not.toBe('cancelled');
    await api().cancelJob(jobId);
  });

  it('registers a model with models push, lists it and moves an alias', async () => {
    const file = join(folder, 'cli-adder.onnx');
    writeFileSync(file, buildTwoInputModel());

    const pushed = await longtail(['models', 'push', file, '--alias', 'prod', '--json']);
    const again = await longtail(['models', 'push', file, '--json']);
    const aliased = await longtail(['models', 'alias', 'cli-adder', 'stable', '2']);
    const listed = await longtail(['models', 'list', '--json']);
    const got = await longtail(['models', 'get', 'cli-adder', '--json']);

    expect(JSON.parse(pushed.stdout)).toMatchObject({ ref: 'cli-adder:1', status: 'ready' });
    expect(JSON.parse(again.stdout)).toMatchObject({ ref: 'cli-adder:2', status: 'ready' });
    expect(aliased.code).toBe(0);
    const { models } = JSON.parse(listed.stdout) as { models: { name: string }[] };
    expect(models.map((m) => m.name)).toEqual(expect.arrayContaining(['cli-adder', 'churn-risk']));
    expect(JSON.parse(got.stdout)).toMatchObject({ aliases: { prod: '1', stable: '2', latest: '2' } });
  });

  it('exits non-zero when a pushed model fails its check, with its reason', async () => {
    const file = join(folder, 'broken.onnx');
    writeFileSync(file, 'not a graph');

    const run = await longtail(['models', 'push', file]);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('broken:1 failed');
    expect(run.stderr).toContain('INVALID_MODEL');
  });

  describe('on a terminal', () => {
    /**
     * `script` (util-linux) runs the CLI on a pseudo-terminal, as a user's shell does: stdout and
     * stderr are a TTY, so the CLI draws bars. Its output is what the terminal received.
     */
    const onTerminal = (args: string[]) =>
      new Promise<Run>((resolve) => {
        if (!existsSync('/usr/bin/script'))
          throw new Error('This test needs `script` from util-linux (apt-get install bsdutils).');
        const command = [process.execPath, bin, ...args].map((arg) => `'${arg}'`).join(' ');
        execFile(
          '/usr/bin/script',
          ['-qec', command, '/dev/null'],
          { cwd: folder, env: envFor({ TERM: 'xterm', COLUMNS: '160' }), timeout: 60_000 },
          (error, stdout, stderr) =>
            resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });

    it('draws an upload bar and a live progress bar, redrawn in place, and ends with the summary', async () => {
      const input = writeCustomers('tty.jsonl', 2000);

      const run = await onTerminal(['submit', input, '-m', 'churn-risk', '--wait']);

      expect(run.code).toBe(0);
      // The bars, redrawn in place (cursor to column 1, line erased), the cursor hidden meanwhile.
      expect(run.stdout).toMatch(/uploading =+ 100% \d+\/\d+ bytes/);
      expect(run.stdout).toMatch(
        /completed =+ 2000\/2000 records \| 0 failed \| shards \d+\/\d+ \| \d+ rec\/s \| ETA 0s/,
      );
      expect(run.stdout.split('\u001b[1G').length).toBeGreaterThan(3);
      expect(run.stdout).toContain('\u001b[?25l');
      // No line-per-change progress, as a log gets it: that is for a non-terminal.
      expect(run.stdout).not.toMatch(/^Uploading .* to s3:\/\//m);
      expect(run.stdout).toContain('2000 of 2000 records succeeded, 0 failed');
    });

    it('draws no bar without a terminal (the first test checks its lines)', async () => {
      const run = await longtail(['submit', writeCustomers('pipe.jsonl', 20), '-m', 'churn-risk', '--wait']);

      expect(run.code).toBe(0);
      const output = `${run.stdout}${run.stderr}`;
      expect(output).not.toMatch(/[=-]{40}/);
      expect(output).not.toContain('\u001b[');
    });
  });

  describe('when the network drops during an upload', () => {
    it('sends the cut request again and submits the whole file', async () => {
      const proxy = await startDroppingProxy(local.stack.awsEndpoint, { drops: 2, afterBytes: 16 * 1024 });
      try {
        const input = writeCustomers('flaky.jsonl', 1000);

        const run = await longtail(['submit', input, '-m', 'churn-risk', '--wait', '--out', 'flaky.out'], {
          AWS_ENDPOINT_URL: proxy.url,
        });

        expect(proxy.dropped()).toBe(2);
        expect(run.code).toBe(0);
        expect(run.stdout).toContain('1000 of 1000 records succeeded');
        expect(readFileSync(join(folder, 'flaky.out'), 'utf8').trim().split('\n')).toHaveLength(1000);
      } finally {
        await proxy.stop();
      }
    });

    it('sends only the cut part of a multipart upload again, and the input is the file, byte for byte', async () => {
      const input = writeCustomers('multipart.jsonl', 80_000);
      expect(statSync(input).size).toBeGreaterThan(8 * 1024 * 1024);
      // The first part goes through; the second is cut half-way, once.
      const proxy = await startDroppingProxy(local.stack.awsEndpoint, {
        skip: 1,
        drops: 1,
        afterBytes: 1024 * 1024,
      });
      try {
        const run = await longtail(['--json', 'submit', input, '-m', 'churn-risk'], {
          AWS_ENDPOINT_URL: proxy.url,
        });

        expect(run.code).toBe(0);
        expect(proxy.dropped()).toBe(1);
        // Each 8 MiB part once, and the cut one once more: nothing started over.
        expect(proxy.puts()).toBe(Math.ceil(statSync(input).size / (8 * 1024 * 1024)) + 1);
        const { jobId } = JSON.parse(run.stdout) as { jobId: string };
        await api().cancelJob(jobId);
        const job = await api().getJob(jobId);
        expect(job.input.type).toBe('s3');
        const uploaded = await local.readObject(job.input.type === 's3' ? job.input.s3Uri : '');
        expect(uploaded === readFileSync(input, 'utf8')).toBe(true);
      } finally {
        await proxy.stop();
      }
    });

    it('gives up with one clear line, submits nothing and leaves no object, when every attempt is cut', async () => {
      const proxy = await startDroppingProxy(local.stack.awsEndpoint, {
        drops: Infinity,
        afterBytes: 16 * 1024,
      });
      const before = (await api().listJobs({ limit: 100 })).jobs.length;
      try {
        const run = await longtail(['submit', writeCustomers('cut.jsonl', 1000), '-m', 'churn-risk'], {
          AWS_ENDPOINT_URL: proxy.url,
        });

        expect(run.code).toBe(1);
        expect(proxy.dropped()).toBeGreaterThan(1);
        expect(run.stderr).toMatch(
          /^longtail: Uploading cut\.jsonl to s3:\/\/\S+ failed: .+\. Nothing was submitted\.$/m,
        );
        expect(run.stderr).not.toMatch(/^\s+at /m);
        expect(run.stderr.match(/^longtail: /gm)).toHaveLength(1);
        expect((await api().listJobs({ limit: 100 })).jobs).toHaveLength(before);
        const target = /to (s3:\/\/\S+) failed/.exec(run.stderr)![1]!;
        await expect(local.readObject(target)).rejects.toThrow(/NoSuchKey|does not exist/);
      } finally {
        await proxy.stop();
      }
    });
  });

  describe('answers bad input with one clear line and a non-zero exit', () => {
    it('names the variable to set when the key is missing', async () => {
      const run = await longtail(['jobs', 'list'], { LONGTAIL_API_KEY: undefined });

      expect(run.code).toBe(1);
      expect(run.stderr).toContain('set LONGTAIL_API_KEY');
      expectOneCleanLine(run.stderr);
    });

    it('names the variable to set when the URL is missing', async () => {
      const run = await longtail(['jobs', 'list'], { LONGTAIL_API_URL: undefined });

      expect(run.code).toBe(1);
      expect(run.stderr).toContain('set LONGTAIL_API_URL');
    });

    it('says the API cannot be reached', async () => {
      const run = await longtail(['jobs', 'list'], {
        LONGTAIL_API_URL: `http://127.0.0.1:${await closedPort()}`,
      });

      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /Cannot reach the Longtail API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
      );
      expectOneCleanLine(run.stderr);
    });

    it("prints the API's code for a key it refuses", async () => {
      const run = await longtail(['jobs', 'list'], { LONGTAIL_API_KEY: 'wrong' });

      expect(run.code).toBe(1);
      expect(run.stderr).toContain('FORBIDDEN');
    });

    it('says the file does not exist', async () => {
      const run = await longtail(['submit', 'missing.csv', '-m', 'churn-risk']);

      expect(run.code).toBe(1);
      expect(run.stderr).toContain('No such file or folder: missing.csv');
      expectOneCleanLine(run.stderr);
    });

    it('names the available models before uploading anything', async () => {
      const run = await longtail(['submit', writeCustomers('one.jsonl', 1), '-m', 'no-such-model']);

      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/No model "no-such-model"\. Available: .*churn-risk/);
      expect(run.stderr).not.toContain('Uploading');
    });

    it('submits nothing when the upload fails', async () => {
      const before = (await api().listJobs({ limit: 100 })).jobs;

      const run = await longtail(['submit', writeCustomers('lost.jsonl', 10), '-m', 'churn-risk'], {
        AWS_ENDPOINT_URL: `http://127.0.0.1:${await closedPort()}`,
      });

      expect(run.code).toBe(1);
      expect(run.stderr).toContain('Nothing was submitted.');
      expect((await api().listJobs({ limit: 100 })).jobs).toHaveLength(before.length);
    });

    it("shows a watched job's error and exits 2 when it fails", async () => {
      const uri = `s3://${local.stack.names.inputsBucket}/nowhere/missing.jsonl`;

      const run = await longtail(['submit', uri, '-m', 'churn-risk', '--wait']);

      expect(run.code).toBe(2);
      expect(run.stderr).toContain('Error: INPUT_NOT_FOUND');
    });
  });
});
