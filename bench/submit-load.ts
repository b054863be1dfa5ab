import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { developmentApiKeys } from '../lib/auth/api-keys';
import { demoCustomers } from '../local/demo-data';
import { startLocalStack } from '../local/stack';
import { headersOf } from './api-load';

/**
 * `npm run bench:submit-load [-- --jobs 1000 --clients 50]`: that many one-record jobs submitted
 * over HTTP by that many concurrent clients against the local runtime; reports submit latency
 * (p50, p99, max) and throughput, then waits until every job has ended.
 */
const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

const main = async () => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const jobs = arg('jobs', 1000);
  const clients = arg('clients', 50);
  const dataDir = mkdtempSync(join(tmpdir(), 'longtail-load-'));
  const stack = await startLocalStack({
    apiPort: 0,
    awsPort: 0,
    dataDir,
    apiKeys: developmentApiKeys,
    batchConcurrency: arg('workers', 2),
  });
  const headers = headersOf({ apiUrl: stack.apiUrl, apiKey: developmentApiKeys.split(':')[1] ?? '' });
  const [record] = demoCustomers(1);
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const jobIds: string[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < jobs) {
        next++;
        const sent = performance.now();
        const response = await fetch(`${stack.apiUrl}/jobs`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ model: 'churn-risk', input: { records: [record] } }),
        });
        latencies.push(performance.now() - sent);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        jobIds.push(((await response.json()) as { jobId: string }).jobId);
      }
    }),
  );
  const submitSeconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      jobs,
      clients,
      accepted: statuses.get(202) ?? 0,
      statuses: Object.fromEntries(statuses),
      submitsPerSecond: Math.round(jobs / submitSeconds),
      latencyMs: {
        p50: +percentile(latencies, 50).toFixed(1),
        p99: +percentile(latencies, 99).toFixed(1),
        max: +(latencies.at(-1) ?? 0).toFixed(1),
      },
    }),
  );

  const ended = new Map<string, string>();
  const deadline = Date.now() + 30 * 60_000;
  while (ended.size < jobIds.length && Date.now() < deadline) {
    for (const jobId of jobIds.filter((id) => !ended.has(id)).slice(0, 200)) {
      const job = (await (await fetch(`${stack.apiUrl}/jobs/${jobId}`, { headers })).json()) as {
        status: string;
      };
      if (['completed', 'failed', 'cancelled'].includes(job.status)) ended.set(jobId, job.status);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const byStatus: Record<string, number> = {};
  for (const status of ended.values()) byStatus[status] = (byStatus[status] ?? 0) + 1;
  console.log(
    JSON.stringify({
      ended: ended.size,
      byStatus,
      allEndedAfterSeconds: Math.round((performance.now() - started) / 1000),
    }),
  );
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(ended.size === jobs && byStatus.completed === jobs ? 0 : 1);
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
