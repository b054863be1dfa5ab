import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { parse } from 'csv-parse/sync';
import { customersCsv } from '../support/csv-fixtures';
import { TestStack, apiKeys } from '../support/local-stack';
import type { FailureLine } from '../../lib/domain/worker-output';
import { Readable } from 'node:stream';
import { recordSpans } from '../../lib/records/boundaries';

const csvRows = (text: string): string[][] => parse(text, { relaxColumnCount: true });

describe('batch transform on the local runtime', () => {
  const local = new TestStack();
  const notifications: S3Event[] = [];

  beforeAll(async () => {
    await local.start({ batchConcurrency: 3 });
    local.stack.onS3Notification((event) => notifications.push(event));
  });

  afterAll(async () => {
    await local.stop();
    local.cleanUp();
  });

  const jobsOf = async () =>
    ((await local.api('/jobs?limit=100')).json.jobs as { jobId: string; input: { s3Uri?: string } }[]) ?? [];

  const jobForInput = async (s3Uri: string, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = (await jobsOf()).filter((job) => job.input.s3Uri === s3Uri);
      if (found.length > 0) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`No job for ${s3Uri}`);
  };

  it('turns a 100,000-row CSV dropped in S3 into .out and .out.failed rows, every row accounted for, in order', async () => {
    const csv = customersCsv(100_000, 997);
    const key = 'drop/churn-risk/nightly/customers 2026-11-25.csv';
    await local.putInput(
      `${key}.options.json`,
      JSON.stringify({ options: { joinSource: 'Input', shardSizeMB: 1, maxShards: 8 } }),
    );
    const inputUri = await local.putInput(key, csv.text);

    const [dropped] = await jobForInput(inputUri);
    const progress: unknown[] = [];
    let job;
    for (;;) {
      job = (await local.api(`/jobs/${dropped!.jobId}`)).json as Record<string, unknown> & {
        status: string;
        counts: { total: number; succeeded: number; failed: number };
        shards: { total: number } | null;
        outputUri: string;
        failureUri: string;
        source: string;
      };
      if (job.status === 'running') progress.push(job.counts);
      if (['completed', 'failed'].includes(job.status)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const bad = csv.rows.filter((row) => row.bad);
    expect(job.status).toBe('completed');
    expect(job.source).toBe('s3-drop');
    expect(job.counts).toEqual({ total: 100_000, succeeded: 100_000 - bad.length, failed: bad.length });
    expect(job.shards?.total).toBeGreaterThan(1);
    expect(job.outputUri).toMatch(/\/outputs\/[^/]+\/customers 2026-11-25\.csv\.out$/);
    expect(progress.length).toBeGreaterThan(0);

    const outputs = csvRows(await local.readObject(job.outputUri));
    expect(outputs.map((cells) => cells[0])).toEqual(csv.rows.filter((row) => !row.bad).map((row) => row.id));
    expect(outputs[0]).toHaveLength(10);
    expect(['stays', 'churns']).toContain(outputs[0]![8]);
    expect(outputs.find((cells) => cells[7]?.includes('\n'))?.[7]).toBe(
      'called about "billing",\nthen again',
    );

    const failures = await local.readJsonLines<FailureLine>(job.failureUri);
    expect(failures.map((f) => f.record.split(',')[0])).toEqual(bad.map((row) => row.id));
    expect(new Set(failures.map((f) => f.error.code))).toEqual(new Set(['INVALID_RECORD']));
    // Each failure names the line its row starts on in the file, whichever shard read it: the
    // shards after the first number their lines from their own start, and the join renumbers them.
    const spans: { line: number }[] = [];
    for await (const span of recordSpans(Readable.from([Buffer.from(csv.text)]), 'csv')) spans.push(span);
    const lineOf = new Map(csv.rows.map((row, i) => [row.id, spans[i + 1]!.line]));
    expect(failures.map((f) => f.line)).toEqual(bad.map((row) => lineOf.get(row.id)));
    expect(Math.max(...failures.map((f) => f.line))).toBeGreaterThan(100_000);
  }, 120_000);

  it('makes one job of an S3 event delivered twice, and a new job of a new upload of the same key', async () => {
    const key = 'drop/churn-risk/twice.jsonl';
    const inputUri = await local.putInput(key, toJsonLines(demoCustomers(20, 2)));
    const [first] = await jobForInput(inputUri);
    const event = notifications.find((n) => n.Records[0]?.s3.object.key === key);

    await local.stack.invoke('s3Drop', event);
    await local.stack.invoke('s3Drop', event);
    expect((await jobsOf()).filter((job) => job.input.s3Uri === inputUri).map((j) => j.jobId)).toEqual([
      first!.jobId,
    ]);

    await local.putInput(key, toJsonLines(demoCustomers(20, 3)));
    const deadline = Date.now() + 10_000;
    while ((await jobForInput(inputUri)).length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await jobForInput(inputUri)).toHaveLength(2);
  });

  it('reads URL-encoded keys from the notification and records an unknown model as a failed job', async () => {
    const inputUri = await local.putInput('drop/no-such-model/a+b c.jsonl', toJsonLines(demoCustomers(2)));
    const [job] = await jobForInput(inputUri);
    const finished = await local.waitForJob(job!.jobId);
    expect(finished.status).toBe('failed');
    expect(finished.error?.code).toBe('UNKNOWN_MODEL');
  });

  it('runs every object under a prefix, one .out per input file', async () => {
    await local.putInput('batch/a.jsonl', toJsonLines(demoCustomers(30, 4)));
    await local.putInput('batch/nested/b.jsonl', toJsonLines(demoCustomers(40, 5)));
    await local.putInput('batch/c.csv', customersCsv(50, 0).text);

    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { s3Uri: `s3://${local.stack.names.inputsBucket}/batch/` } },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));

    expect(job.status).toBe('completed');
    expect(job.counts).toEqual({ total: 120, succeeded: 120, failed: 0 });
    expect(job.outputUri).toBe(`s3://${local.stack.names.outputsBucket}/outputs/${job.jobId}/`);
    expect(await local.readJsonLines(`${job.outputUri}a.jsonl.out`)).toHaveLength(30);
    expect(await local.readJsonLines(`${job.outputUri}nested/b.jsonl.out`)).toHaveLength(40);
    expect(csvRows(await local.readObject(`${job.outputUri}c.csv.out`))).toHaveLength(50);
  });

  it('runs the objects a manifest file lists', async () => {
    const bucket = local.stack.names.inputsBucket;
    await local.putInput('listed/one.jsonl', toJsonLines(demoCustomers(10, 6)));
    await local.putInput('listed/two.jsonl', toJsonLines(demoCustomers(15, 7)));
    const manifestUri = await local.putInput(
      'listed/input.manifest',
      JSON.stringify([{ prefix: `s3://${bucket}/listed/` }, 'one.jsonl', 'two.jsonl']),
    );

    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { s3Uri: manifestUri, s3DataType: 'ManifestFile' } },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));

    expect(job.status).toBe('completed');
    expect(job.counts.total).toBe(25);
    expect(await local.readJsonLines(`${job.outputUri}two.jsonl.out`)).toHaveLength(15);
  });

  it('retries only the failed records of a finished job, as a job linked to it', async () => {
    const csv = customersCsv(300, 10);
    const inputUri = await local.putInput('retry/customers.csv', csv.text);
    const parent = await local.waitForJob(
      String(
        (
          await local.api('/jobs', {
            method: 'POST',
            body: { model: 'churn-risk', input: { s3Uri: inputUri } },
          })
        ).json.jobId,
      ),
    );
    expect(parent.counts.failed).toBe(30);

    const retried = await local.api(`/jobs/${parent.jobId}/retry-failed`, { method: 'POST' });
    const again = await local.api(`/jobs/${parent.jobId}/retry-failed`, { method: 'POST' });
    const child = await local.waitForJob(String(retried.json.jobId));

    expect(retried.status).toBe(202);
    expect(again.json.jobId).toBe(retried.json.jobId);
    expect(child).toMatchObject({
      status: 'failed',
      parentJobId: parent.jobId,
      counts: { total: 30, failed: 30 },
    });
    expect(child.error?.code).toBe('ALL_RECORDS_FAILED');
    const childFailures = await local.readJsonLines<FailureLine>(
      `${child.failureUri}00000-customers.csv.out.failed`,
    );
    expect(childFailures.map((f) => f.record.split(',')[0])).toEqual(
      csv.rows.filter((r) => r.bad).map((r) => r.id),
    );
    expect(
      (await local.api(`/jobs/${child.jobId}/retry-failed`, { method: 'POST', key: apiKeys.bob })).status,
    ).toBe(404);
  });

  it('applies SageMaker-style input and output filters with a join, one record per inference call', async () => {
    const records = demoCustomers(12, 8).map(({ customer_id, ...features }) => ({
      id: customer_id,
      features,
    }));
    const inputUri = await local.putInput('filters/wrapped.jsonl', toJsonLines(records));

    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: {
        model: 'churn-risk',
        input: { s3Uri: inputUri },
        options: {
          inputFilter: '$.features',
          joinSource: 'Input',
          outputFilter: "$['id','prediction']",
          batchStrategy: 'SingleRecord',
        },
      },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));

    expect(job.status).toBe('completed');
    const outputs = await local.readJsonLines<{ id: string; prediction: { label: string } }>(job.outputUri);
    expect(outputs.map((o) => o.id)).toEqual(records.map((r) => r.id));
    expect(Object.keys(outputs[0]!)).toEqual(['id', 'prediction']);
  });

  it('writes CSV for JSON Lines input when asked to accept text/csv', async () => {
    const inputUri = await local.putInput('accept/customers.jsonl', toJsonLines(demoCustomers(9, 9)));

    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { s3Uri: inputUri }, options: { accept: 'text/csv' } },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));

    const rows = csvRows(await local.readObject(job.outputUri));
    expect(rows).toHaveLength(9);
    expect(
      rows.every((row) => row.length === 2 && ['stays', 'churns'].includes(row[0]!) && Number(row[1]) > 0),
    ).toBe(true);
  });

  it('reads a whole object as one JSON record with splitType None', async () => {
    const [customer] = demoCustomers(1, 10);
    const inputUri = await local.putInput('whole/customer.json', JSON.stringify(customer, null, 2));

    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: {
        model: 'churn-risk',
        input: { s3Uri: inputUri },
        options: { splitType: 'None', joinSource: 'Input' },
      },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));

    expect(job.counts).toEqual({ total: 1, succeeded: 1, failed: 0 });
    expect(await local.readJsonLines(job.outputUri)).toEqual([
      { ...customer, prediction: expect.objectContaining({ label: expect.any(String) }) },
    ]);
  });

  it('fails a job early when more records fail than maxFailedRecordsPercent allows', async () => {
    const csv = customersCsv(400, 2);
    const inputUri = await local.putInput('budget/customers.csv', csv.text);

    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { s3Uri: inputUri }, options: { maxFailedRecordsPercent: 10 } },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));

    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('TOO_MANY_FAILED_RECORDS');
  });

  it('refuses compressed input with UNSUPPORTED_FORMAT', async () => {
    await local.s3.send(
      new PutObjectCommand({
        Bucket: local.stack.names.inputsBucket,
        Key: 'gz/data.jsonl.gz',
        Body: Buffer.from([0x1f, 0x8b, 8, 0]),
      }),
    );
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: {
        model: 'churn-risk',
        input: { s3Uri: `s3://${local.stack.names.inputsBucket}/gz/data.jsonl.gz` },
      },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));
    expect(job.error?.code).toBe('UNSUPPORTED_FORMAT');
  });
});
