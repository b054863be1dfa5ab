import { demoCustomers } from '../../local/demo-data';
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
});
