import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { TestStack } from '../support/local-stack';

describe('the local runtime across a restart', () => {
  const local = new TestStack();

  afterAll(async () => {
    await local.stop();
    local.cleanUp();
  });

  it('keeps job records and result objects', async () => {
    await local.start();
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { records: demoCustomers(3) } },
    });
    const before = await local.waitForJob(String(submitted.json.jobId));
    const outputsBefore = await local.readObject(before.outputUri);
    await local.stop();

    await local.start();
    const after = await local.api(`/jobs/${before.jobId}`);

    expect(after.json).toMatchObject({
      status: 'completed',
      counts: before.counts,
      outputUri: before.outputUri,
    });
    expect(await local.readObject(before.outputUri)).toBe(outputsBefore);
    expect(outputsBefore.trim().split('\n')).toHaveLength(3);
  });

  it('resumes a job stopped mid-run where it was: same execution, every record once', async () => {
    const customers = demoCustomers(40_000, 3);
    const inputUri = await local.putInput('restart/customers.jsonl', toJsonLines(customers));
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: {
        model: 'churn-risk',
        input: { s3Uri: inputUri },
        options: { joinSource: 'Input', outputFilter: "$['customer_id','prediction']", shardSizeMB: 2 },
      },
    });
    const jobId = String(submitted.json.jobId);
    // Stopped once some records are scored and before the job ends.
    let running: Record<string, unknown> | undefined;
    while (!running) {
      const { json } = await local.api(`/jobs/${jobId}`);
      expect(json.status).not.toBe('completed');
      if ((json.counts as { succeeded: number }).succeeded > 0) running = json;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await local.stop();

    await local.start();
    const job = await local.waitForJob(jobId, undefined, 90_000);

    expect(job.status).toBe('completed');
    expect(job.executionArn).toBe(running.executionArn);
    expect(job.counts).toEqual({ total: 40_000, succeeded: 40_000, failed: 0 });
    const ids = (await local.readJsonLines<{ customer_id: string }>(job.outputUri)).map(
      (line) => line.customer_id,
    );
    expect(ids).toEqual(customers.map((customer) => customer.customer_id));
    const sfn = new SFNClient({
      endpoint: local.stack.awsEndpoint,
      region: local.stack.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const { executions = [] } = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: local.stack.names.stateMachineArn }),
    );
    sfn.destroy();
    expect(executions.filter((e) => e.name === jobId).map((e) => e.status)).toEqual(['SUCCEEDED']);
  }, 120_000);
});
