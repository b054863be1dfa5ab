import { StopExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { TestStack } from '../support/local-stack';

/** Long enough that the worker is still running when the test acts: ~60,000 records in shards run one at a time. */
const longRunning = { shardSizeMB: 1, maxShards: 8 };
const bigInput = toJsonLines(demoCustomers(60_000, 5));

const waitForStatus = async (local: TestStack, jobId: string, status: string, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { json } = await local.api(`/jobs/${jobId}`);
    if (json.status === status) return json;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`Job ${jobId} never became ${status}`);
};

describe('jobs whose execution ends outside the state machine', () => {
  const local = new TestStack();

  afterAll(async () => {
    await local.stop();
    local.cleanUp();
  });

  it('are cancelled, with a job.cancelled event, when their execution is stopped', async () => {
    await local.start({ batchConcurrency: 1 });
    await local.listenToJobEvents();
    const inputUri = await local.putInput('big/customers.jsonl', bigInput);
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { s3Uri: inputUri }, options: longRunning },
    });
    const jobId = String(submitted.json.jobId);
    const running = await waitForStatus(local, jobId, 'running');

    const sfn = new SFNClient({ endpoint: local.stack.awsEndpoint, region: local.stack.region });
    await sfn.send(new StopExecutionCommand({ executionArn: String(running.executionArn), cause: 'test' }));
    sfn.destroy();
    const job = await local.waitForJob(jobId);

    expect(job.status).toBe('cancelled');
    expect(job.completedAt).not.toBeNull();
    expect(await local.jobEvent(jobId)).toMatchObject({ type: 'job.cancelled', jobId, status: 'cancelled' });
  });

  it('are failed with the reason, not left running, when the runtime stops mid-run and cannot resume them', async () => {
    const inputUri = await local.putInput('big/customers-2.jsonl', bigInput);
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { s3Uri: inputUri }, options: longRunning },
    });
    const jobId = String(submitted.json.jobId);
    await waitForStatus(local, jobId, 'running');

    await local.stop();
    // As a .data/ from before the runtime kept histories: nothing says where the execution was.
    const histories = join(local.dataDir, 'stepfunctions', 'history');
    const history = readdirSync(histories).find((name) => name.endsWith(`${jobId}.jsonl`));
    rmSync(join(histories, history!));
    await local.start({ batchConcurrency: 1 });
    const job = await local.waitForJob(jobId);

    expect(job.status).toBe('failed');
    expect(job.error).toEqual({
      code: 'EXECUTION_FAILED',
      message: expect.stringMatching(
        /The local runtime stopped while the execution ran and it cannot be resumed: no history/,
      ),
    });
  });
});
