import { PutObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mulberry32 } from '../../lib/seeded-random';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { apiKeys } from '../support/local-stack';

/**
 * The `restart` fault kind: the whole local runtime (its process group: the runtime and its
 * workers) killed with SIGKILL at seeded random moments and started again on the same data
 * folder, several times in one run, while jobs are pending, planning, running shards,
 * assembling and announcing. Then the same account as the other kinds: every job completed
 * once, records in = records out, one execution per job, one webhook id per event.
 */
export interface RestartFaultOptions {
  jobs: number;
  restarts: number;
  seed: number;
  records?: number;
  log?: (line: string) => void;
}

export interface RestartFaultReport {
  jobs: number;
  restarts: number;
  /** What the restarted runtimes did at start, summed over the restarts. */
  atStart: typeof atStart;
  /** What the jobs were doing at each kill: status → jobs, summed over the kills. */
  killedWhile: Record<string, number>;
  jobsLost: number;
  duplicateJobs: number;
  jobsWithOneExecution: number;
  recordsIn: number;
  recordsOut: number;
  /** Jobs whose .out has one line per record that succeeded and .out.failed one per record that failed. */
  jobsWithOneLinePerRecord: number;
  jobsWithOneWebhookIdPerEvent: number;
  statuses: Record<string, number>;
  seconds: number;
}

interface RunningStack {
  child: ChildProcess;
  apiUrl: string;
  awsEndpoint: string;
  region: string;
  names: { inputsBucket: string; stateMachineArn: string };
}

const projectRoot = resolve(__dirname, '../..');

/** Starts the runtime in its own process group and waits for its READY line. */
/** What the restarted runtimes said they did at start (their "Restarted: …" lines), summed. */
const atStart = { resumed: 0, notResumed: 0, pendingRequeued: 0, webhooksRequeued: 0 };

const startStack = (dataDir: string): Promise<RunningStack> =>
  new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(projectRoot, 'test/support/stack-process.ts'),
        dataDir,
        `alice:${apiKeys.alice}`,
      ],
      { cwd: projectRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } },
    );
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const said =
        /Restarted: (\d+) execution\(s\) resumed, (\d+) could not be, (\d+) pending job\(s\) and (\d+) undelivered/.exec(
          chunk.toString(),
        );
      if (said) {
        atStart.resumed += Number(said[1]);
        atStart.notResumed += Number(said[2]);
        atStart.pendingRequeued += Number(said[3]);
        atStart.webhooksRequeued += Number(said[4]);
      }
      const ready = /READY (.+)\n/.exec(out);
      if (ready) done({ child, ...(JSON.parse(ready[1]!) as Omit<RunningStack, 'child'>) });
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-4000);
    });
    child.on('exit', (code, signal) =>
      fail(new Error(`runtime exited (${code ?? signal}) before it was ready: ${err}`)),
    );
  });

/** SIGKILL to the runtime's whole process group, as a lost machine or an OOM kill of the group. */
const killStack = async (stack: RunningStack) => {
  const exited = new Promise((done) => stack.child.once('exit', done));
  try {
    process.kill(-stack.child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
  await exited;
};

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export const runRestartFaults = async (options: RestartFaultOptions): Promise<RestartFaultReport> => {
  const started = Date.now();
  const random = mulberry32(options.seed + 10);
  const log = options.log ?? (() => undefined);
  // About 170 bytes a record: 8,000 records are one or two shards of 1 MB.
  const records = options.records ?? 8000;
  const dataDir = mkdtempSync(join(tmpdir(), 'longtail-restart-'));
  Object.assign(atStart, { resumed: 0, notResumed: 0, pendingRequeued: 0, webhooksRequeued: 0 });

  // A webhook receiver in this process: it outlives every runtime.
  const deliveries = new Map<string, { ids: Set<string>; ok: number }>();
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { jobId: string } };
      const seen = deliveries.get(body.data.jobId) ?? { ids: new Set(), ok: 0 };
      deliveries.set(body.data.jobId, seen);
      seen.ids.add(String(req.headers['webhook-id']));
      seen.ok++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  let stack = await startStack(dataDir);
  const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const response = await fetch(`${stack.apiUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${apiKeys.alice}`, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return (await response.json()) as Record<string, unknown>;
  };
  const s3 = () =>
    new S3Client({
      endpoint: stack.awsEndpoint,
      region: stack.region,
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  const readLines = async (uri: string) => {
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri) ?? [];
    const client = s3();
    try {
      const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return ((await Body?.transformToString()) ?? '').split('\n').filter((line) => line.trim() !== '');
    } catch {
      return [];
    } finally {
      client.destroy();
    }
  };

  const expected = new Map<string, number>();
  const killedWhile: Record<string, number> = {};
  const submit = async (i: number) => {
    const count = Math.max(1, Math.floor(records * (0.5 + random())));
    const key = `restart/job-${i}.jsonl`;
    const client = s3();
    await client.send(
      new PutObjectCommand({
        Bucket: stack.names.inputsBucket,
        Key: key,
        Body: toJsonLines(demoCustomers(count, options.seed * 1000 + i)),
      }),
    );
    client.destroy();
    const job = await api('/jobs', {
      method: 'POST',
      body: {
        model: 'churn-risk',
        input: { s3Uri: `s3://${stack.names.inputsBucket}/${key}` },
        webhookUrl,
        options: { shardSizeMB: 1 },
      },
    });
    if (typeof job.jobId !== 'string') throw new Error(`POST /jobs refused: ${JSON.stringify(job)}`);
    expected.set(job.jobId, count);
  };

  try {
    // Jobs go in before each kill, so that every kill finds some just submitted (pending), some
    // planning or running shards, and older ones assembling or announcing.
    // One job of each wave goes in just before the kill: still pending (its queue message in the
    // in-memory queue) or only just started when the runtime dies.
    const perWave = Math.ceil(options.jobs / options.restarts);
    let submitted = 0;
    for (let restart = 0; restart < options.restarts; restart++) {
      for (let i = 0; i < perWave - 1 && submitted < options.jobs; i++) await submit(submitted++);
      await sleep(300 + random() * 4000);
      for (const jobId of expected.keys()) {
        const { status } = await api(`/jobs/${jobId}`);
        killedWhile[String(status)] = (killedWhile[String(status)] ?? 0) + 1;
      }
      // Killed the moment its POST is answered: pending, its message in the in-memory queue, or
      // its execution only just started.
      if (submitted < options.jobs) {
        await submit(submitted++);
        killedWhile['just submitted'] = (killedWhile['just submitted'] ?? 0) + 1;
      }
      log(`kill ${restart + 1}: ${JSON.stringify(killedWhile)}`);
      await killStack(stack);
      stack = await startStack(dataDir);
    }

    const statuses: Record<string, number> = {};
    let recordsIn = 0;
    let recordsOut = 0;
    let jobsWithOneLinePerRecord = 0;
    const deadline = Date.now() + 240_000;
    for (const [jobId, count] of expected) {
      let job: Record<string, unknown>;
      for (;;) {
        job = await api(`/jobs/${jobId}`);
        if (['completed', 'failed', 'cancelled'].includes(String(job.status))) break;
        if (Date.now() > deadline) break;
        await sleep(250);
      }
      statuses[String(job.status)] = (statuses[String(job.status)] ?? 0) + 1;
      recordsIn += count;
      const out = await readLines(String(job.outputUri));
      const failed = await readLines(String(job.failureUri));
      recordsOut += out.length + failed.length;
      // An output line is the prediction alone (equal features give equal lines): one line per
      // record is the count of lines against the job's records and its own counts.
      if (
        out.length === (job.counts as { succeeded: number }).succeeded &&
        out.length + failed.length === count
      )
        jobsWithOneLinePerRecord++;
      else
        log(
          `job ${jobId}: ${out.length} .out and ${failed.length} .out.failed lines for ${count} records, counts ${JSON.stringify(job.counts)}, shards ${JSON.stringify(job.shards)}`,
        );
    }
    log(`all ${expected.size} jobs ended; waiting for webhooks`);
    const webhookDeadline = Date.now() + 60_000;
    while (
      [...expected.keys()].some((id) => (deliveries.get(id)?.ok ?? 0) === 0) &&
      Date.now() < webhookDeadline
    )
      await sleep(200);

    for (const id of expected.keys())
      if (deliveries.get(id)?.ids.size !== 1 || (deliveries.get(id)?.ok ?? 0) < 1)
        log(`job ${id}: webhook ids ${JSON.stringify([...(deliveries.get(id)?.ids ?? [])])}`);
    const sfn = new SFNClient({
      endpoint: stack.awsEndpoint,
      region: stack.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const { executions = [] } = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: stack.names.stateMachineArn }),
    );
    sfn.destroy();
    const executionsPerJob = new Map<string, number>();
    for (const execution of executions)
      executionsPerJob.set(execution.name ?? '', (executionsPerJob.get(execution.name ?? '') ?? 0) + 1);
    const listed = (await api('/jobs?limit=100')).jobs as unknown[];

    return {
      jobs: options.jobs,
      restarts: options.restarts,
      atStart: { ...atStart },
      killedWhile,
      jobsLost: options.jobs - (statuses.completed ?? 0),
      duplicateJobs: listed.length - options.jobs,
      jobsWithOneExecution: [...expected.keys()].filter((id) => executionsPerJob.get(id) === 1).length,
      recordsIn,
      recordsOut,
      jobsWithOneLinePerRecord,
      jobsWithOneWebhookIdPerEvent: [...expected.keys()].filter(
        (id) => deliveries.get(id)?.ids.size === 1 && (deliveries.get(id)?.ok ?? 0) >= 1,
      ).length,
      statuses,
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    await killStack(stack);
    receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
