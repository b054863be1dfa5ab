import { S3ObjectStore } from '../../lib/aws/s3';
import { DynamoJobStore } from '../../lib/aws/dynamodb/job-store';
import { defaultJobOptions } from '../../lib/domain/job-options';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { useLocalStack } from '../support/local-stack';

describe('the sweeper', () => {
  const local = useLocalStack();

  it('runs a job that was written but never enqueued (a crash between the two)', async () => {
    // What createJob leaves when it dies after the conditional write and before SendMessage.
    const jobId = 'c7a1d2e3-0000-4000-8000-00000000beef';
    const { inputsBucket, outputsBucket } = local.stack.names;
    const inputKey = `inline/${jobId}/0000000000000000/records.jsonl`;
    await new S3ObjectStore().putText(
      { bucket: inputsBucket, key: inputKey },
      toJsonLines(demoCustomers(5)),
      'application/x-ndjson',
    );
    await new DynamoJobStore().create({
      jobId,
      ownerId: 'alice',
      status: 'pending',
      model: 'churn-risk',
      modelVersion: '1',
      input: { type: 'records', recordCount: 5 },
      inputUri: `s3://${inputsBucket}/${inputKey}`,
      outputUri: `s3://${outputsBucket}/outputs/${jobId}/records.jsonl.out`,
      failureUri: `s3://${outputsBucket}/outputs/${jobId}/records.jsonl.out.failed`,
      counts: { total: 0, succeeded: 0, failed: 0 },
      createdAt: new Date(Date.now() - 10 * 60_000).toISOString(),
      options: defaultJobOptions(),
      source: 'api',
    });

    const swept = await local.stack.invoke('sweep', {});
    const job = await local.waitForJob(jobId);

    expect(swept).toEqual({ requeued: 1, reconciled: 0 });
    expect(job.status).toBe('completed');
    expect(job.counts).toEqual({ total: 5, succeeded: 5, failed: 0 });
    expect(await local.stack.invoke('sweep', {})).toEqual({ requeued: 0, reconciled: 0 });
  });

  it('leaves a job that is merely recent alone', async () => {
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { records: demoCustomers(2) } },
    });

    const swept = await local.stack.invoke('sweep', {});

    expect(swept).toEqual({ requeued: 0, reconciled: 0 });
    expect((await local.waitForJob(String(submitted.json.jobId))).status).toBe('completed');
  });
});
