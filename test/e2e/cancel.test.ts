import { BatchClient, ListJobsCommand } from '@aws-sdk/client-batch';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { TestStack, apiKeys } from '../support/local-stack';

interface RunningView {
  status: string;
  shards: { succeeded: number } | null;
  executionArn: string | null;
}

describe('cancelling a job', () => {
  const local = new TestStack();

  beforeAll(async () => {
    await local.start({ batchConcurrency: 1 });
    await local.listenToJobEvents();
  });

  afterAll(async () => {
    await local.stop();
    local.cleanUp();
  });

  it('stops a running job and its Batch job, keeps the finished shards’ outputs, and announces it once', async () => {
    const inputUri = await local.putInput('cancel/customers.jsonl', toJsonLines(demoCustomers(60_000, 12)));
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { s3Uri: inputUri }, options: { shardSizeMB: 1, maxShards: 6 } },
    });
    const jobId = String(submitted.json.jobId);
    let view: RunningView;
    for (;;) {
      view = (await local.api(`/jobs/${jobId}`)).json as unknown as RunningView;
      if (view.status === 'running' && (view.shards?.succeeded ?? 0) >= 1) break;
      if (['completed', 'failed'].includes(view.status))
        throw new Error(`The job ended (${view.status}) before the test could cancel it`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const cancelled = await local.api(`/jobs/${jobId}/cancel`, { method: 'POST' });
    const again = await local.api(`/jobs/${jobId}/cancel`, { method: 'POST' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = (await local.api(`/jobs/${jobId}`)).json as {
      status: string;
      partialOutputs: string[];
      counts: { succeeded: number };
      cost: { gpuSeconds: number; attempts: number; measuredBy: string; total: { onDemand: number } } | null;
    };

    expect(cancelled.status).toBe(200);
    expect(cancelled.json.status).toBe('cancelled');
    expect(again.status).toBe(200);
    expect(after.status).toBe('cancelled');
    expect(after.partialOutputs.length).toBeGreaterThanOrEqual(1);
    const kept = await local.readJsonLines(after.partialOutputs[0]!);
    expect(kept.length).toBeGreaterThan(0);
    expect(after.counts.succeeded).toBeGreaterThanOrEqual(kept.length);
    // The attempts that ran count, the one stopped by the cancel up to the cancel.
    expect(after.cost).toMatchObject({ measuredBy: 'local' });
    expect(after.cost?.attempts).toBeGreaterThanOrEqual(2);
    expect(after.cost?.gpuSeconds).toBeGreaterThan(0);
    expect(after.cost?.total.onDemand).toBeGreaterThan(0);

    const batch = new BatchClient({ endpoint: local.stack.awsEndpoint, region: local.stack.region });
    const { jobSummaryList = [] } = await batch.send(
      new ListJobsCommand({
        jobQueue: 'longtail-local-gpu',
        filters: [{ name: 'JOB_NAME', values: [`longtail-${jobId}`] }],
      }),
    );
    batch.destroy();
    expect(jobSummaryList.map((job) => [job.status, job.statusReason])).toEqual([
      ['FAILED', 'Terminated: Cancelled by its owner'],
    ]);

    const events = await local.jobEvents(jobId, 2000);
    expect(events.map((event) => event.type)).toEqual(['job.cancelled']);
  }, 60_000);

  it('answers 409 for a job that already ended, and 404 for another owner’s job', async () => {
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { records: demoCustomers(2) } },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));

    const late = await local.api(`/jobs/${job.jobId}/cancel`, { method: 'POST' });
    const foreign = await local.api(`/jobs/${job.jobId}/cancel`, { method: 'POST', key: apiKeys.bob });

    expect(late.status).toBe(409);
    expect(late.json.error?.code).toBe('JOB_ALREADY_ENDED');
    expect(foreign.status).toBe(404);
  });
});
