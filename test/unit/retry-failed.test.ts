import { locationOf } from '../../lib/domain/s3-location';
import { NotFound } from '../../lib/errors';
import { idempotentJobId } from '../../lib/use-cases/create-job';
import type { CreateJobDeps } from '../../lib/use-cases/create-job';
import type { Job } from '../../lib/domain/job';
import { buildJobPlan } from '../../lib/use-cases/steps/job-planner';
import { planLocationOf } from '../../lib/domain/locations';
import type { JobPlan, PlannedFile } from '../../lib/domain/job-plan';
import { retryFailedRecords } from '../../lib/use-cases/retry-failed';
import { findModel } from '../fixtures/shipped-manifests';
import { testResources } from '../fixtures/env';
import { InMemoryJobStore, InMemoryObjectStore, RecordingJobQueue } from '../fixtures/in-memory';
import { aJob, churnCsvRow, churnHeader, churnRecords } from '../fixtures/jobs';
import { aPlan } from '../fixtures/plans';
import { shippedModelCatalog } from '../fixtures/models';

const inputs = testResources.inputsBucket;
const outputs = testResources.outputsBucket;
const parentId = 'parent-1';
const childId = idempotentJobId('alice', `retry-failed:${parentId}`);

const failureLine = (line: number, record: string, code = 'INFERENCE_FAILED') =>
  JSON.stringify({ line, record, error: { code, message: 'it failed' } });

describe('retryFailedRecords', () => {
  let store: InMemoryJobStore;
  let queue: RecordingJobQueue;
  let objects: InMemoryObjectStore;
  const deps = (): CreateJobDeps => ({
    store,
    queue,
    objects,
    models: shippedModelCatalog(),
    inputsBucket: inputs,
    outputsBucket: outputs,
    now: () => new Date('2025-01-02T00:00:00.000Z'),
  });
  const parent = aJob({
    jobId: parentId,
    status: 'completed',
    counts: { total: 10, succeeded: 8, failed: 2 },
    options: { ...aJob().options, maxBatchSize: 16 },
    webhookUrl: 'https://hooks.example.com/x',
  });
  const jsonlPlan = aPlan({ jobId: parentId, records: [6, 4] });
  const jsonlFailures = [
    failureLine(3, '{"tenure_months": 3,'),
    failureLine(9, JSON.stringify(churnRecords[0])),
  ];

  const given = (job: Job, plan: JobPlan | undefined, failures: Record<string, string[]> = {}) => {
    store = new InMemoryJobStore(job);
    objects = new InMemoryObjectStore();
    if (plan) objects.put(planLocationOf(outputs, job.jobId), JSON.stringify(plan));
    for (const [uri, lines] of Object.entries(failures))
      objects.put(locationOf(uri), lines.map((l) => `${l}\n`).join(''));
  };
  const retryKeys = () => objects.keys(inputs).filter((key) => key.startsWith('retries/'));

  beforeEach(() => {
    queue = new RecordingJobQueue();
    given(parent, jsonlPlan, { [jsonlPlan.files[0]!.failureUri]: jsonlFailures });
  });

  it('starts a job over the failed records, linked to its parent, with its model, options and webhook', async () => {
    const { job, replayed } = await retryFailedRecords('alice', parentId, deps());

    expect(replayed).toBe(false);
    expect(job).toMatchObject({
      jobId: childId,
      ownerId: 'alice',
      status: 'pending',
      model: 'churn-risk',
      source: 'retry-failed',
      parentJobId: parentId,
      input: { type: 's3', s3Uri: `s3://${inputs}/retries/${childId}/`, s3DataType: 'S3Prefix' },
      outputUri: `s3://${outputs}/outputs/${childId}/`,
      options: parent.options,
      webhookUrl: parent.webhookUrl,
    });
    expect(store.jobs.get(childId)).toEqual(job);
    expect(queue.messages).toEqual([{ jobId: childId }]);
  });

  it('copies the failed records, as they were written, to retries/<newJobId>/ in the inputs bucket', async () => {
    await retryFailedRecords('alice', parentId, deps());

    expect(retryKeys()).toEqual([`retries/${childId}/00000-records.jsonl`]);
    expect(objects.text({ bucket: inputs, key: `retries/${childId}/00000-records.jsonl` })).toBe(
      `{"tenure_months": 3,\n${JSON.stringify(churnRecords[0])}\n`,
    );
  });

  it('copies failed CSV rows under the header of their file, and tells the retry the header is there', async () => {
    const header = ['id', ...churnHeader];
    const csvFile: PlannedFile = {
      ...jsonlPlan.files[0]!,
      inputUri: `s3://${inputs}/data/customers.csv`,
      format: 'csv',
      outputFormat: 'csv',
      outputUri: `s3://${outputs}/outputs/${parentId}/customers.csv.out`,
      failureUri: `s3://${outputs}/outputs/${parentId}/customers.csv.out.failed`,
      header,
    };
    const rows = [`c-7,${churnCsvRow(churnRecords[0]!)}`, `"c-9, quoted",${churnCsvRow(churnRecords[1]!)}`];
    given(
      parent,
      { ...jsonlPlan, files: [csvFile] },
      {
        [csvFile.failureUri]: [failureLine(8, rows[0]!), failureLine(10, rows[1]!)],
      },
    );

    const { job } = await retryFailedRecords('alice', parentId, deps());

    expect(objects.text({ bucket: inputs, key: `retries/${childId}/00000-customers.csv` })).toBe(
      `${header.join(',')}\n${rows.join('\n')}\n`,
    );
    expect(job.options.csvHeader).toBe('present');
  });

  it('makes a retry job that plans to exactly the failed records', async () => {
    const { job } = await retryFailedRecords('alice', parentId, deps());
    await store.transition(job.jobId, 'running');

    const plan = await buildJobPlan((await store.get(job.jobId))!, findModel('churn-risk')!, {
      objects,
      inputsBucket: inputs,
      outputsBucket: outputs,
    });

    expect(plan.totalRecords).toBe(2);
    expect(plan.files.map((f) => f.outputUri)).toEqual([
      `s3://${outputs}/outputs/${childId}/00000-records.jsonl.out`,
    ]);
  });

  it('retries every failed row of a job whose CSV files had a header and files that had none', async () => {
    const csvFile = (name: string, header?: string[]): PlannedFile => ({
      ...jsonlPlan.files[0]!,
      inputUri: `s3://${inputs}/batch/${name}`,
      format: 'csv',
      outputFormat: 'csv',
      outputUri: `s3://${outputs}/outputs/${parentId}/${name}.out`,
      failureUri: `s3://${outputs}/outputs/${parentId}/${name}.out.failed`,
      ...(header ? { header } : {}),
    });
    const withHeader = csvFile('a.csv', churnHeader);
    const withoutHeader = csvFile('b.csv');
    const row = churnCsvRow(churnRecords[0]!);
    given(
      { ...parent, counts: { total: 10, succeeded: 7, failed: 3 } },
      { ...jsonlPlan, files: [withHeader, withoutHeader] },
      {
        [withHeader.failureUri]: [failureLine(2, row)],
        [withoutHeader.failureUri]: [failureLine(1, row), failureLine(4, row)],
      },
    );

    const { job } = await retryFailedRecords('alice', parentId, deps());
    await store.transition(job.jobId, 'running');
    const plan = await buildJobPlan((await store.get(job.jobId))!, findModel('churn-risk')!, {
      objects,
      inputsBucket: inputs,
      outputsBucket: outputs,
    });

    expect(plan.totalRecords).toBe(3);
  });

  it('copies the failures of each file of a job of many files', async () => {
    const second: PlannedFile = {
      ...jsonlPlan.files[0]!,
      inputUri: `s3://${inputs}/batch/b.jsonl`,
      failureUri: `s3://${outputs}/outputs/${parentId}/b.jsonl.out.failed`,
    };
    const plan = { ...jsonlPlan, files: [jsonlPlan.files[0]!, second] };
    given(parent, plan, {
      [jsonlPlan.files[0]!.failureUri]: jsonlFailures.slice(0, 1),
      [second.failureUri]: jsonlFailures.slice(1),
    });

    await retryFailedRecords('alice', parentId, deps());

    expect(retryKeys()).toEqual([
      `retries/${childId}/00000-records.jsonl`,
      `retries/${childId}/00001-b.jsonl`,
    ]);
  });

  it('retries the failed records of a job that failed, too', async () => {
    given(
      { ...parent, status: 'failed', error: { code: 'TOO_MANY_FAILED_RECORDS', message: 'too many' } },
      jsonlPlan,
      { [jsonlPlan.files[0]!.failureUri]: jsonlFailures },
    );

    await expect(retryFailedRecords('alice', parentId, deps())).resolves.toMatchObject({ replayed: false });
  });

  it('gives the same retry job when asked twice, copying and queueing nothing more', async () => {
    const first = await retryFailedRecords('alice', parentId, deps());
    const copied = objects.keys(inputs).map((key) => objects.text({ bucket: inputs, key }));

    const again = await retryFailedRecords('alice', parentId, deps());

    expect(again).toEqual({ job: first.job, replayed: true });
    expect(objects.keys(inputs).map((key) => objects.text({ bucket: inputs, key }))).toEqual(copied);
    expect(queue.messages).toHaveLength(1);
  });

  it('answers 404 JOB_NOT_FOUND for another owner’s job, exactly as for a missing one', async () => {
    const othersJob = retryFailedRecords('bob', parentId, deps());
    const missing = retryFailedRecords('alice', 'no-such-job', deps());

    await expect(othersJob).rejects.toBeInstanceOf(NotFound);
    await expect(othersJob).rejects.toMatchObject({
      code: 'JOB_NOT_FOUND',
      message: `There is no job ${parentId}.`,
    });
    await expect(missing).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
    expect(retryKeys()).toEqual([]);
  });

  it.each(['pending', 'running'] as const)('answers 409 JOB_NOT_FINISHED for a %s job', async (status) => {
    given({ ...parent, status }, jsonlPlan, { [jsonlPlan.files[0]!.failureUri]: jsonlFailures });

    await expect(retryFailedRecords('alice', parentId, deps())).rejects.toMatchObject({
      name: 'Conflict',
      code: 'JOB_NOT_FINISHED',
    });
    expect(store.jobs.size).toBe(1);
  });

  it('answers 409 NOTHING_TO_RETRY for a job with no failed record', async () => {
    given({ ...parent, counts: { total: 10, succeeded: 10, failed: 0 } }, jsonlPlan);

    await expect(retryFailedRecords('alice', parentId, deps())).rejects.toMatchObject({
      name: 'Conflict',
      code: 'NOTHING_TO_RETRY',
    });
  });

  it('answers 409 NOTHING_TO_RETRY for a job that never planned its input', async () => {
    given({ ...parent, status: 'failed', counts: { total: 0, succeeded: 0, failed: 1 } }, undefined);

    await expect(retryFailedRecords('alice', parentId, deps())).rejects.toMatchObject({
      code: 'NOTHING_TO_RETRY',
    });
  });

  it('answers 409 NOTHING_TO_RETRY, making no job, when the failure files hold no record', async () => {
    given(parent, jsonlPlan, { [jsonlPlan.files[0]!.failureUri]: [] });

    await expect(retryFailedRecords('alice', parentId, deps())).rejects.toMatchObject({
      code: 'NOTHING_TO_RETRY',
    });
    expect(store.jobs.size).toBe(1);
    expect(queue.messages).toEqual([]);
  });
});
