import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { TestStack } from '../support/local-stack';
import { runningWorkers } from '../support/workers';

const workerPidsOf = (jobId: string) =>
  runningWorkers()
    .filter((worker) => worker.jobId === jobId)
    .map((worker) => worker.pid);

describe('a worker killed in the middle of its shard', () => {
  const local = new TestStack();

  beforeAll(async () => {
    await local.start({ batchConcurrency: 1 });
  });

  afterAll(async () => {
    await local.stop();
    local.cleanUp();
  });

  it('is run again by the retry strategy, and the outputs hold every record exactly once, in order', async () => {
    const customers = demoCustomers(60_000, 21);
    const inputUri = await local.putInput('crash/customers.jsonl', toJsonLines(customers));
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: {
        model: 'churn-risk',
        input: { s3Uri: inputUri },
        options: {
          joinSource: 'Input',
          outputFilter: "$['customer_id','prediction']",
          shardSizeMB: 2,
          maxShards: 4,
        },
      },
    });
    const jobId = String(submitted.json.jobId);

    let killed: number | undefined;
    const deadline = Date.now() + 20_000;
    while (killed === undefined && Date.now() < deadline) {
      const view = (await local.api(`/jobs/${jobId}`)).json as { counts: { succeeded: number } };
      const [pid] = workerPidsOf(jobId);
      // Kill it once it has written some results, so that a partial shard exists.
      if (pid && view.counts.succeeded > 0) {
        process.kill(pid, 'SIGKILL');
        killed = pid;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const job = await local.waitForJob(jobId);

    expect(killed).toBeDefined();
    const attempts = readdirSync(join(local.dataDir, 'logs', 'batch', `longtail-${jobId}`));
    expect(attempts.some((log) => log.endsWith('-attempt-2.log'))).toBe(true);
    expect(job.status).toBe('completed');
    expect(job.counts).toEqual({ total: 60_000, succeeded: 60_000, failed: 0 });
    const ids = (await local.readJsonLines<{ customer_id: string }>(job.outputUri)).map(
      (line) => line.customer_id,
    );
    expect(ids).toEqual(customers.map((customer) => customer.customer_id));
  }, 60_000);
});
