import { GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { TestStack } from '../support/local-stack';
import { workersOf } from '../support/worker-processes';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('POST /jobs/{id}/resume', () => {
  const local = new TestStack();
  let sfn: SFNClient;

  beforeAll(async () => {
    // One worker at a time: shard 0 finishes before shard 1 starts.
    await local.start({ batchConcurrency: 1, workerLogLevel: 'INFO' });
    sfn = new SFNClient({
      endpoint: local.stack.awsEndpoint,
      region: local.stack.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });

  afterAll(async () => {
    sfn.destroy();
    await local.stop();
    local.cleanUp();
  });

  it('resumes a job whose Batch job was lost beyond its retries: same execution, succeeded shard not rerun, every record once', async () => {
    const customers = demoCustomers(24_000, 5);
    const inputUri = await local.putInput('resume/customers.jsonl', toJsonLines(customers));
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: {
        model: 'churn-risk',
        input: { s3Uri: inputUri },
        options: { joinSource: 'Input', outputFilter: "$['customer_id','prediction']", shardSizeMB: 2 },
      },
    });
    const jobId = String(submitted.json.jobId);

    // Shard 1's worker is killed at every attempt, as a host lost three times would be.
    let kills = 0;
    const deadline = Date.now() + 60_000;
    let failed: Record<string, unknown> | undefined;
    while (!failed && Date.now() < deadline) {
      for (const worker of workersOf(jobId).filter((w) => w.shard === 1)) {
        try {
          process.kill(worker.pid, 'SIGKILL');
          kills++;
        } catch {
          // ended first
        }
      }
      const { json } = await local.api(`/jobs/${jobId}`);
      if (json.status === 'failed') failed = json;
      await sleep(20);
    }
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(failed).toMatchObject({
      status: 'failed',
      error: { code: 'WORKER_FAILED' },
      shards: { total: 2, succeeded: 1, running: 0, pending: 0, stopped: 1 },
      partialOutputs: [expect.stringMatching(/^s3:\/\//)],
    });
    const succeededBefore = (failed!.counts as { succeeded: number }).succeeded;
    expect(succeededBefore).toBeGreaterThan(0);

    const resumed = await local.api(`/jobs/${jobId}/resume`, { method: 'POST' });
    expect(resumed.status).toBe(202);
    expect(resumed.json).toMatchObject({ jobId, status: 'running', error: null });

    const job = await local.waitForJob(jobId, undefined, 60_000);
    expect(job.status).toBe('completed');
    expect(job.counts).toEqual({ total: 24_000, succeeded: 24_000, failed: 0 });
    const ids = (await local.readJsonLines<{ customer_id: string }>(job.outputUri)).map(
      (line) => line.customer_id,
    );
    expect(ids).toEqual(customers.map((customer) => customer.customer_id));

    // One execution, redriven once; the succeeded shard's worker stopped at once the second time.
    const { executions = [] } = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: local.stack.names.stateMachineArn }),
    );
    expect(executions.filter((e) => e.name === jobId)).toHaveLength(1);
    const { events = [] } = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: job.executionArn!, maxResults: 1000 }),
    );
    expect(events.filter((e) => e.type === 'ExecutionRedriven')).toHaveLength(1);
    expect(events.at(-1)?.type).toBe('ExecutionSucceeded');
    // Planning ran once: the redrive went on from the Batch step.
    expect(events.filter((e) => e.stateEnteredEventDetails?.name === 'Plan the shards')).toHaveLength(1);
    const logs = readdirSync(join(local.dataDir, 'logs', 'batch', `longtail-${jobId}`));
    // The resumed Batch job's logs replace the first one's, attempt by attempt.
    const shard0Logs = logs.filter((name) => /^0-attempt-\d+\.log$/.test(name));
    const skipped = shard0Logs.some((name) =>
      readFileSync(join(local.dataDir, 'logs', 'batch', `longtail-${jobId}`, name), 'utf8').includes(
        'Shard already succeeded in an earlier run',
      ),
    );
    expect(skipped).toBe(true);

    // Resuming again: it is not failed any more.
    const again = await local.api(`/jobs/${jobId}/resume`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({
      code: 'NOT_RESUMABLE',
      message: expect.stringContaining('completed'),
    });
  }, 180_000);

  it('refuses, with the reason, a job that failed on its own input', async () => {
    const inputUri = await local.putInput('resume/empty.jsonl', '');
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { s3Uri: inputUri } },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));
    expect(job.error?.code).toBe('EMPTY_INPUT');

    const refused = await local.api(`/jobs/${job.jobId}/resume`, { method: 'POST' });
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({
      code: 'NOT_RESUMABLE',
      message: expect.stringContaining('EMPTY_INPUT'),
    });
    expect((await local.api(`/jobs/${job.jobId}`)).json).toMatchObject({ status: 'failed' });
  });

  it('answers 404 for a job of another owner', async () => {
    const inputUri = await local.putInput('resume/one.jsonl', toJsonLines(demoCustomers(2)));
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { s3Uri: inputUri } },
    });
    const refused = await local.api(`/jobs/${String(submitted.json.jobId)}/resume`, {
      method: 'POST',
      key: 'bob-test-key',
    });
    expect(refused.status).toBe(404);
  });
});
