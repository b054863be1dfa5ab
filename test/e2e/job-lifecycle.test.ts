import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { findModel } from '../fixtures/shipped-manifests';
import { decodePredictions, encodeRecords } from '../../gpu-container/src/tensors';
import type { Prediction } from '../../lib/models/tensors';
import { useLocalStack } from '../support/local-stack';
import type { FailureLine } from '../../lib/domain/worker-output';

const churnRisk = findModel('churn-risk')!;

/** What onnxruntime itself says for these records, outside Longtail. */
const directPredictions = async (records: Record<string, unknown>[]): Promise<Prediction[]> => {
  const session = await ort.InferenceSession.create(join(__dirname, '../../models/churn-risk/model.onnx'), {
    executionProviders: ['cpu'],
  });
  const feeds = Object.fromEntries(
    Object.entries(encodeRecords(churnRisk, records)).map(([name, t]) => [
      name,
      new ort.Tensor('float32', t.data, t.dims),
    ]),
  );
  const results = await session.run(feeds);
  const output = results.churn_logit!;
  return decodePredictions(
    churnRisk,
    { churn_logit: { data: output.data as Float32Array, dims: [...output.dims] } },
    records.length,
  );
};

describe('an inference job on the local runtime', () => {
  const local = useLocalStack((stack) => stack.listenToJobEvents());

  it('completes inline records with the model’s real predictions and announces it on job-events', async () => {
    const records = demoCustomers(25, 11);

    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { records } },
    });
    expect(submitted.status).toBe(202);
    expect(submitted.json).toMatchObject({ status: 'pending' });
    const jobId = String(submitted.json.jobId);
    const job = await local.waitForJob(jobId);

    expect(job.status).toBe('completed');
    expect(job.counts).toEqual({ total: 25, succeeded: 25, failed: 0 });
    expect(job.executionArn).toContain(`:execution:longtail-local-inference-job:${jobId}`);
    expect(Date.parse(job.completedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(job.startedAt ?? ''));
    const outputs = await local.readJsonLines<Prediction>(job.outputUri);
    const expected = await directPredictions(records as unknown as Record<string, unknown>[]);
    expect(outputs).toHaveLength(records.length);
    outputs.forEach((output, i) => {
      expect(output.label).toBe(expected[i]!.label);
      expect(output.score).toBeCloseTo(expected[i]!.score, 6);
    });
    expect(await local.readObject(job.failureUri)).toBe('');
    expect(await local.jobEvent(jobId)).toMatchObject({
      type: 'job.completed',
      jobId,
      ownerId: 'alice',
      counts: { total: 25, succeeded: 25, failed: 0 },
      outputUri: job.outputUri,
    });
  });

  it('reads an S3 input, keeps going past bad lines, and lists them with their line numbers', async () => {
    const customers = demoCustomers(200, 3);
    const lines = toJsonLines(customers).trimEnd().split('\n');
    lines[9] = '{"tenure_months": 4, "monthly_charges": ';
    lines[49] = JSON.stringify({ ...customers[49], contract: 'lifetime' });
    const inputUri = await local.putInput('e2e/customers.jsonl', lines.join('\r\n') + '\r\n');

    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { s3Uri: inputUri } },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));

    expect(job.status).toBe('completed');
    expect(job.counts).toEqual({ total: 200, succeeded: 198, failed: 2 });
    expect(job.outputUri).toMatch(/\/outputs\/[^/]+\/customers\.jsonl\.out$/);
    const failures = await local.readJsonLines<FailureLine>(job.failureUri);
    expect(failures.map((f) => [f.line, f.error.code])).toEqual([
      [10, 'MALFORMED_JSON'],
      [50, 'INVALID_RECORD'],
    ]);
    expect(failures[1]!.error.message).toContain('contract');
    const outputs = await local.readJsonLines<Prediction>(job.outputUri);
    expect(outputs).toHaveLength(198);
    const goodCustomers = customers.filter((_, i) => i !== 9 && i !== 49);
    const expected = await directPredictions(goodCustomers as unknown as Record<string, unknown>[]);
    expect(outputs.map((o) => o.label)).toEqual(expected.map((p) => p.label));
  });

  it('fails with INPUT_NOT_FOUND and a failure event when the S3 input does not exist', async () => {
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: {
        model: 'churn-risk',
        input: { s3Uri: `s3://${local.stack.names.inputsBucket}/nowhere/missing.jsonl` },
      },
    });
    const jobId = String(submitted.json.jobId);
    const job = await local.waitForJob(jobId);

    expect(job.status).toBe('failed');
    expect(job.error).toEqual({ code: 'INPUT_NOT_FOUND', message: expect.stringContaining('missing.jsonl') });
    expect(await local.jobEvent(jobId)).toMatchObject({
      type: 'job.failed',
      jobId,
      error: { code: 'INPUT_NOT_FOUND' },
    });
  });

  it('fails with ALL_RECORDS_FAILED when the model rejects every record', async () => {
    const inputUri = await local.putInput(
      'e2e/all-bad.jsonl',
      toJsonLines([
        {
          tenure_months: -5,
          monthly_charges: 50,
          support_calls: 1,
          contract: 'one-year',
          paperless_billing: true,
          senior_citizen: false,
        },
        { tenure_months: 5, monthly_charges: 'fifty' },
      ]),
    );

    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { s3Uri: inputUri } },
    });
    const jobId = String(submitted.json.jobId);
    const job = await local.waitForJob(jobId);

    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('ALL_RECORDS_FAILED');
    expect(job.counts).toEqual({ total: 2, succeeded: 0, failed: 2 });
    expect(await local.readJsonLines<FailureLine>(job.failureUri)).toHaveLength(2);
    expect(await local.jobEvent(jobId)).toMatchObject({
      type: 'job.failed',
      error: { code: 'ALL_RECORDS_FAILED' },
    });
  });

  it('fails with EMPTY_INPUT when the input holds no records', async () => {
    const inputUri = await local.putInput('e2e/empty.jsonl', '\n\n');

    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { s3Uri: inputUri } },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));

    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('EMPTY_INPUT');
  });

  it('accepts the example record GET /models advertises, as is', async () => {
    const { status, json } = await local.api('/models');
    const models = json.models as {
      name: string;
      example: Record<string, unknown>;
      fields: { name: string; type: string }[];
    }[];
    expect(status).toBe(200);
    expect(models.map((m) => m.name)).toContain('churn-risk');

    for (const model of models) {
      const submitted = await local.api('/jobs', {
        method: 'POST',
        body: { model: model.name, input: { records: [model.example] } },
      });
      expect(submitted.status).toBe(202);
      expect((await local.waitForJob(String(submitted.json.jobId))).status).toBe('completed');
    }
  });
});
