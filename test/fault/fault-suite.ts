import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { S3Event } from 'aws-lambda';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mulberry32 } from '../../lib/seeded-random';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { TestStack } from '../support/local-stack';
import { runningWorkers } from '../support/workers';

/**
 * N jobs through the API and S3 drops with seeded faults — a dispatch crash after
 * StartExecution (the message comes back: a duplicate delivery), workers killed mid-shard,
 * duplicate SQS and S3 deliveries, webhook receivers answering 500 — then an account of what
 * happened: nothing lost, nothing doubled.
 */
export interface FaultSuiteOptions {
  jobs: number;
  seed: number;
  /** Records per job (a few shards each when large). */
  records?: number;
  log?: (line: string) => void;
}

export interface FaultReport {
  jobs: number;
  faults: { duplicateSqs: number; duplicateS3: number; workerKills: number; webhook500s: number };
  jobsLost: number;
  duplicateJobs: number;
  jobsWithOneExecution: number;
  recordsIn: number;
  recordsOut: number;
  jobsWithOneWebhookIdPerEvent: number;
  statuses: Record<string, number>;
  seconds: number;
}

export const runFaultSuite = async (options: FaultSuiteOptions): Promise<FaultReport> => {
  const started = Date.now();
  const random = mulberry32(options.seed);
  const log = options.log ?? (() => undefined);
  const records = options.records ?? 2000;
  const local = new TestStack();
  const previousBase = process.env.WEBHOOK_RETRY_BASE_SECONDS;
  process.env.WEBHOOK_RETRY_BASE_SECONDS = '1';
  await local.start({ batchConcurrency: 2 });

  // Each fault kind draws from its own generator, so that timing cannot shift one kind's draws
  // into another's, and the first chance of each kind is always taken, so every run has all kinds.
  const hookRandom = mulberry32(options.seed + 2);
  const s3Random = mulberry32(options.seed + 3);
  const sqsRandom = mulberry32(options.seed + 4);
  // A webhook receiver that answers 500 to a seeded share of first deliveries.
  const deliveries = new Map<string, { ids: Set<string>; ok: number }>();
  let webhook500s = 0;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { jobId: string } };
      const seen = deliveries.get(body.data.jobId) ?? { ids: new Set(), ok: 0 };
      deliveries.set(body.data.jobId, seen);
      seen.ids.add(String(req.headers['webhook-id']));
      if (seen.ok === 0 && (webhook500s === 0 || hookRandom() < 0.3)) {
        webhook500s++;
        res.writeHead(500).end();
        return;
      }
      seen.ok++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  /** Every job the owner has, through all pages. */
  const allJobs = async () => {
    const jobs: { jobId: string; input: { s3Uri?: string } }[] = [];
    let cursor: string | null = null;
    do {
      const page = (await local.api(`/jobs?limit=100${cursor ? `&cursor=${cursor}` : ''}`)).json as {
        jobs: typeof jobs;
        nextCursor: string | null;
      };
      jobs.push(...page.jobs);
      cursor = page.nextCursor;
    } while (cursor);
    return jobs;
  };

  const s3Events: S3Event[] = [];
  local.stack.onS3Notification((event) => s3Events.push(event));
  const faults = { duplicateSqs: 0, duplicateS3: 0, workerKills: 0, webhook500s: 0 };
  // Kills a seeded share of workers as they run — always the first one seen, so every run has a
  // kill — deciding each job once, at its first worker. Its own generator, so that timing does
  // not shift the other faults' draws.
  const killRandom = mulberry32(options.seed + 1);
  const decided = new Set<string>();
  const killer = setInterval(() => {
    for (const { pid, jobId } of runningWorkers()) {
      if (decided.has(jobId)) continue;
      decided.add(jobId);
      if (faults.workerKills === 0 || killRandom() < 0.25) {
        try {
          process.kill(pid, 'SIGKILL');
          faults.workerKills++;
        } catch {
          // it ended first
        }
      }
    }
  }, 10);
  const expected = new Map<string, number>();
  const jobIds = new Set<string>();

  try {
    for (let i = 0; i < options.jobs; i++) {
      const count = Math.max(1, Math.floor(records * (0.5 + random())));
      const body = toJsonLines(demoCustomers(count, options.seed * 1000 + i));
      if (random() < 0.5) {
        const inputUri = await local.putInput(`fault/api-${i}.jsonl`, body);
        const response = await local.api('/jobs', {
          method: 'POST',
          body: { model: 'churn-risk', input: { s3Uri: inputUri }, webhookUrl, options: { shardSizeMB: 1 } },
        });
        jobIds.add(String(response.json.jobId));
        expected.set(inputUri, count);
      } else {
        const key = `drop/churn-risk/fault-${i}.jsonl`;
        await local.putInput(
          `${key}.options.json`,
          JSON.stringify({ webhookUrl, options: { shardSizeMB: 1 } }),
        );
        expected.set(await local.putInput(key, body), count);
      }
    }
    // Drops: their jobs, then the same S3 events again for a seeded share.
    const deadline = Date.now() + 60_000;
    let listed: { jobId: string; input: { s3Uri?: string } }[] = [];
    while (Date.now() < deadline) {
      listed = await allJobs();
      if (listed.length >= options.jobs) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const event of s3Events) {
      if (event.Records[0]?.s3.object.key.endsWith('.options.json')) continue;
      if (faults.duplicateS3 === 0 || s3Random() < 0.4) {
        await local.stack.invoke('s3Drop', event);
        faults.duplicateS3++;
      }
    }
    for (const job of listed) jobIds.add(job.jobId);
    // Redelivered job messages: what a dispatch crash after StartExecution leaves behind.
    for (const jobId of jobIds) {
      if (faults.duplicateSqs === 0 || sqsRandom() < 0.5) {
        await local.sqs.send(
          new SendMessageCommand({
            QueueUrl: local.stack.names.jobsQueueUrl,
            MessageBody: JSON.stringify({ jobId }),
          }),
        );
        faults.duplicateSqs++;
      }
    }
    const statuses: Record<string, number> = {};
    let recordsIn = 0;
    let recordsOut = 0;
    for (const jobId of jobIds) {
      const job = await local.waitForJob(jobId, undefined, 180_000);
      statuses[job.status] = (statuses[job.status] ?? 0) + 1;
      const view = (await local.api(`/jobs/${jobId}`)).json as { input: { s3Uri: string } };
      recordsIn += expected.get(view.input.s3Uri) ?? 0;
      recordsOut +=
        (await local.readJsonLines(job.outputUri)).length +
        (await local.readJsonLines(job.failureUri)).length;
    }
    clearInterval(killer);
    log(`all ${jobIds.size} jobs ended; waiting for webhooks`);
    const webhookDeadline = Date.now() + 60_000;
    while ([...jobIds].some((id) => (deliveries.get(id)?.ok ?? 0) === 0) && Date.now() < webhookDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const sfn = new SFNClient({ endpoint: local.stack.awsEndpoint, region: local.stack.region });
    const { executions = [] } = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: local.stack.names.stateMachineArn }),
    );
    sfn.destroy();
    const executionsPerJob = new Map<string, number>();
    for (const execution of executions)
      executionsPerJob.set(execution.name ?? '', (executionsPerJob.get(execution.name ?? '') ?? 0) + 1);
    const finalJobs = (await allJobs()).length;

    faults.webhook500s = webhook500s;
    return {
      jobs: options.jobs,
      faults,
      jobsLost: options.jobs - (statuses.completed ?? 0),
      duplicateJobs: finalJobs - options.jobs,
      jobsWithOneExecution: [...jobIds].filter((id) => executionsPerJob.get(id) === 1).length,
      recordsIn,
      recordsOut,
      jobsWithOneWebhookIdPerEvent: [...jobIds].filter(
        (id) => deliveries.get(id)?.ids.size === 1 && (deliveries.get(id)?.ok ?? 0) >= 1,
      ).length,
      statuses,
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    clearInterval(killer);
    receiver.close();
    await local.stop();
    local.cleanUp();
    if (previousBase === undefined) delete process.env.WEBHOOK_RETRY_BASE_SECONDS;
    else process.env.WEBHOOK_RETRY_BASE_SECONDS = previousBase;
  }
};
