import { validate } from '@readme/openapi-parser';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { ApiError, LongtailClient } from '../../cli/client';
import { apiKeys, useLocalStack } from '../support/local-stack';
import { fileOf, pushModel, waitForCheck } from '../support/model-registry';
import { buildTwoInputModel } from '../support/onnx-models';
import { killWorkersUntilFailed } from '../support/worker-processes';

/**
 * The contract test: the document the running stack serves at /openapi.json, and every answer of
 * every route, success and error, checked against the response schema the document gives for its
 * route, status and media type (ajv, JSON Schema 2020-12). An answer the document does not
 * describe, or a route none of these calls answered with a success, fails it.
 */

jest.setTimeout(120_000);

type Json = Record<string, unknown>;
interface OpenApiDocument {
  openapi: string;
  servers?: { url: string }[];
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, Json> }> }>>;
}

const record = demoCustomers(1)[0]!;

describe('the API against its OpenAPI document', () => {
  const local = useLocalStack();
  let document: OpenApiDocument;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  /** What did not fit, as `METHOD path status: why`. */
  const mismatches: string[] = [];
  /** `METHOD template` of each route that answered a 2xx that fit. */
  const succeeded = new Set<string>();
  const checked = new Map<string, number>();

  const templateOf = (method: string, path: string) =>
    Object.keys(document.paths).find(
      (template) =>
        document.paths[template]![method.toLowerCase()] &&
        new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`).test(path),
    );

  /** Checks one answer against the document; what does not fit is kept for the last test. */
  const check = (
    method: string,
    path: string,
    status: number,
    body: unknown,
    mediaType = 'application/json',
  ) => {
    const pathname = path.split('?')[0]!;
    const template = templateOf(method, pathname);
    const where = `${method} ${path} ${status}`;
    if (!template) return mismatches.push(`${where}: no such route in the document`);
    const response = document.paths[template]![method.toLowerCase()]!.responses[String(status)];
    if (!response) return mismatches.push(`${where}: the document gives no ${status} for ${template}`);
    if (!response.content?.[mediaType]) {
      return mismatches.push(
        `${where}: the document gives no ${mediaType} body for ${status} of ${template}`,
      );
    }
    const pointer = [
      'paths',
      template,
      method.toLowerCase(),
      'responses',
      String(status),
      'content',
      mediaType,
      'schema',
    ]
      .map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1'))
      .join('/');
    if (!ajv.validate({ $ref: `openapi.json#/${pointer}` }, body)) {
      return mismatches.push(
        `${where}: ${ajv.errorsText(ajv.errors)} in ${JSON.stringify(body).slice(0, 300)}`,
      );
    }
    const key = `${method} ${template}`;
    checked.set(key, (checked.get(key) ?? 0) + 1);
    if (status < 300) succeeded.add(key);
  };

  beforeAll(async () => {
    const served = await fetch(`${local.stack.apiUrl}/openapi.json`);
    if (served.status !== 200) throw new Error(`GET /openapi.json answered ${served.status}`);
    document = (await served.json()) as OpenApiDocument;
    ajv.addSchema(document as unknown as Json, 'openapi.json');
    // Every call below goes through the document's check.
    const api = local.api.bind(local);
    local.api = async (path, init = {}) => {
      const answer = await api(path, init);
      const mediaType = answer.headers.get('content-type')?.split(';')[0] ?? 'application/json';
      const body = mediaType === 'application/json' ? answer.json : answer.text;
      check(init.method ?? 'GET', path, answer.status, body, mediaType);
      return answer;
    };
    check('GET', '/openapi.json', served.status, document);
  });

  it('serves a valid OpenAPI 3.1 document without a key, naming the server it came from', async () => {
    const result = await validate(structuredClone(document) as never);

    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers).toEqual([{ url: local.stack.apiUrl }]);
    expect((await local.api('/health', { key: null })).status).toBe(200);
  });

  it('answers the job routes as documented, success and error', async () => {
    const body = { model: 'churn-risk', input: { records: [record, record] } };
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body,
      headers: { 'idempotency-key': 'contract-1' },
    });
    const replayed = await local.api('/jobs', {
      method: 'POST',
      body,
      headers: { 'idempotency-key': 'contract-1' },
    });
    const jobId = String(submitted.json.jobId);

    expect(submitted.status).toBe(202);
    expect(submitted.headers.get('location')).toBe(submitted.json.statusUrl);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    const errors = await Promise.all([
      local.api('/jobs', {
        method: 'POST',
        body: { ...body, input: { records: [record] } },
        headers: { 'idempotency-key': 'contract-1' },
      }),
      local.api('/jobs', { method: 'POST', body, headers: { 'idempotency-key': 'has space' } }),
      local.api('/jobs', { method: 'POST', body: { model: 'nope', input: { records: [record] } } }),
      local.api('/jobs', { method: 'POST', body: { model: 'churn-risk' } }),
      local.api('/jobs', { method: 'POST', body: '{"model":' }),
      local.api('/jobs', { method: 'POST', body: 'model=x', headers: { 'content-type': 'text/plain' } }),
      local.api('/jobs', {
        method: 'POST',
        body: { model: 'churn-risk', input: { records: Array(3000).fill(record) } },
      }),
      local.api('/jobs', {
        method: 'POST',
        body: { model: 'churn-risk', input: { s3Uri: 's3://elsewhere/x.csv' } },
      }),
      local.api('/jobs', { method: 'POST', body, key: null }),
      local.api('/jobs', { method: 'POST', body, key: 'not-a-key' }),
    ]);
    expect(errors.map((e) => e.status)).toEqual([409, 400, 400, 400, 400, 415, 413, 400, 401, 403]);

    const done = await local.waitForJob(jobId);
    expect(done.status).toBe('completed');
    const pending = await local.api('/jobs', { method: 'POST', body });
    const cancelled = await local.api(`/jobs/${String(pending.json.jobId)}/cancel`, { method: 'POST' });
    expect([200, 409]).toContain(cancelled.status);
    const failures = await local.putInput(
      'contract/mixed.jsonl',
      `${JSON.stringify(record)}\n${JSON.stringify({ ...record, tenure_months: 'x' })}\n`,
    );
    const mixed = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { s3Uri: failures } },
    });
    expect((await local.waitForJob(String(mixed.json.jobId))).counts.failed).toBe(1);

    const statuses = await Promise.all([
      local.api('/jobs'),
      local.api('/jobs?status=completed&limit=2'),
      local.api('/jobs?status=done'),
      local.api('/jobs?cursor=bm90LWEtY3Vyc29y'),
      local.api(`/jobs/${jobId}`),
      local.api('/jobs/does-not-exist'),
      local.api('/jobs/has%20space'),
      local.api(`/jobs/${jobId}/cancel`, { method: 'POST' }),
      local.api('/jobs/does-not-exist/cancel', { method: 'POST' }),
      local.api(`/jobs/${jobId}/retry-failed`, { method: 'POST' }),
      local.api(`/jobs/${String(mixed.json.jobId)}/retry-failed`, { method: 'POST' }),
      local.api('/jobs/does-not-exist/retry-failed', { method: 'POST' }),
      local.api(`/jobs/${jobId}/resume`, { method: 'POST' }),
      local.api('/jobs/does-not-exist/resume', { method: 'POST' }),
    ]);
    expect(statuses.map((s) => s.status)).toEqual([
      200, 200, 400, 400, 200, 404, 400, 409, 404, 409, 202, 404, 409, 404,
    ]);
    expect(statuses[12]!.json.error?.code).toBe('NOT_RESUMABLE');
    // An ended job answers its cost (the local runtime's worker time, priced as the instance type).
    expect(statuses[4]!.json.cost).toMatchObject({ measuredBy: 'local', currency: 'USD' });
    expect(mismatches).toEqual([]);
  });

  it('resumes a job whose workers were lost beyond their retries, as documented', async () => {
    const inputUri = await local.putInput('contract/resume.jsonl', toJsonLines(demoCustomers(2000)));
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { s3Uri: inputUri } },
    });
    const jobId = String(submitted.json.jobId);
    const failed = await killWorkersUntilFailed(jobId, async () => (await local.api(`/jobs/${jobId}`)).json);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'WORKER_FAILED' } });
    // Resume once the execution itself has ended: the job is failed a moment before its
    // execution stops, and a resume in between is refused (409) or undone (JobNotRunnable).
    const executionStatus = async () =>
      ((await local.api(`/ops/jobs/${jobId}/execution`)).json.execution as { status: string } | null)?.status;
    const deadline = Date.now() + 30_000;
    while ((await executionStatus()) === 'RUNNING') {
      if (Date.now() > deadline) throw new Error(`The execution of job ${jobId} did not end`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const resumed = await local.api(`/jobs/${jobId}/resume`, { method: 'POST' });

    expect(resumed.status).toBe(202);
    expect(resumed.json).toMatchObject({ jobId, status: 'running', error: null });
    expect(await local.waitForJob(jobId)).toMatchObject({ status: 'completed', error: null });
    expect(mismatches).toEqual([]);
  });

  it('answers the console and the operator views as documented, operators only', async () => {
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { records: [record, record] } },
    });
    const jobId = String(submitted.json.jobId);
    expect((await local.waitForJob(jobId)).status).toBe('completed');
    // The job is recorded completed before its execution announces it and ends.
    for (let tries = 0; tries < 100; tries++) {
      const { json } = await local.api(`/ops/jobs/${jobId}/execution`);
      if ((json.execution as { status?: string } | undefined)?.status !== 'RUNNING') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // alice is the local runtime's operator (its first owner); bob is not.
    const answers = await Promise.all([
      local.api('/console', { key: null }),
      local.api('/console/index.html', { key: null }),
      local.api('/console/app.js', { key: null }),
      local.api('/console/style.css', { key: null }),
      local.api('/console/no-such.js', { key: null }),
      local.api('/ops/state-machine'),
      local.api(`/ops/jobs/${jobId}/execution`),
      local.api(`/ops/jobs/${jobId}/shards`),
      local.api(`/ops/jobs/${jobId}/shards/0/logs`),
      local.api(`/ops/jobs/${jobId}/outputs`),
      local.api('/ops/queues'),
      local.api('/ops/queues', { key: apiKeys.bob }),
      local.api(`/ops/jobs/${jobId}/execution`, { key: apiKeys.bob }),
      local.api('/ops/jobs/does-not-exist/shards'),
      local.api(`/ops/jobs/${jobId}/shards/7/logs`),
      local.api('/ops/jobs/does-not-exist/outputs'),
      local.api('/ops/state-machine', { key: null }),
    ]);

    expect(answers.map((a) => a.status)).toEqual([
      200, 200, 200, 200, 404, 200, 200, 200, 200, 200, 200, 403, 403, 404, 404, 404, 401,
    ]);
    expect(answers.map((a) => a.headers.get('content-type')?.split(';')[0]).slice(0, 4)).toEqual([
      'text/html',
      'text/html',
      'text/javascript',
      'text/css',
    ]);
    expect(answers.slice(11, 16).map((a) => a.json.error?.code)).toEqual([
      'OPERATOR_ONLY',
      'OPERATOR_ONLY',
      'JOB_NOT_FOUND',
      'SHARD_NOT_FOUND',
      'JOB_NOT_FOUND',
    ]);
    expect(answers[6]!.json).toMatchObject({ jobId, execution: { status: 'SUCCEEDED' } });
    expect(answers[9]!.json).toMatchObject({ jobId, output: { exists: true } });
    expect(mismatches).toEqual([]);
  });

  it('answers the model routes and the Open Inference Protocol routes as documented', async () => {
    const onnx = buildTwoInputModel();
    await pushModel(local, 'contract-model', { 'model.onnx': onnx });
    expect((await waitForCheck(local, 'contract-model', '1')).status).toBe('ready');
    const other = buildTwoInputModel(2);
    const unfinished = await local.api('/models/contract-model/versions', {
      method: 'POST',
      body: { version: 'unfinished', files: [fileOf('model.onnx', other)] },
    });
    expect(unfinished.status).toBe(201);

    const answers = await Promise.all([
      local.api('/models'),
      local.api('/models/contract-model'),
      local.api('/models/no-such-model'),
      local.api('/models/Not_A_Name'),
      local.api('/models/contract-model/versions/1'),
      local.api('/models/contract-model/versions/404'),
      local.api('/models/contract-model/versions', {
        method: 'POST',
        body: { version: 'unfinished', files: [fileOf('model.onnx', other)] },
      }),
      local.api('/models/contract-model/versions', {
        method: 'POST',
        body: { version: '1', files: [fileOf('model.onnx', other)] },
      }),
      local.api('/models/contract-model/versions', {
        method: 'POST',
        body: { files: [fileOf('a.onnx', other), fileOf('b.onnx', onnx)] },
      }),
      local.api('/models/contract-model/versions/unfinished/finish', { method: 'POST', body: {} }),
      local.api('/models/contract-model/versions/404/finish', { method: 'POST', body: {} }),
      local.api('/models/contract-model/aliases/prod', { method: 'PUT', body: { version: '1' } }),
      local.api('/models/contract-model/aliases/prod', { method: 'PUT', body: { version: 'unfinished' } }),
      local.api('/models/contract-model/aliases/prod', { method: 'PUT', body: { version: '404' } }),
      local.api('/models/contract-model/aliases/prod', { method: 'PUT', body: { version: 3 } }),
      local.api('/v2/models/contract-model'),
      local.api('/v2/models/contract-model/versions/1'),
      local.api('/v2/models/no-such-model'),
      local.api('/v2/models/contract-model/ready'),
      local.api('/v2/models/contract-model/versions/1/ready'),
      local.api('/v2/models/contract-model/versions/unfinished/ready'),
      local.api('/v2/models/no-such-model/ready'),
    ]);
    expect(answers.map((a) => a.status)).toEqual([
      200, 200, 404, 400, 200, 404, 200, 409, 400, 409, 404, 200, 409, 404, 400, 200, 200, 404, 200, 200, 400,
      404,
    ]);

    const deletes = [
      await local.api('/models/contract-model/versions/1', { method: 'DELETE' }),
      await local.api('/models/contract-model/versions/unfinished', { method: 'DELETE' }),
      await local.api('/models/contract-model/versions/unfinished', { method: 'DELETE' }),
    ];
    expect(deletes.map((d) => d.status)).toEqual([409, 200, 404]);
    expect(mismatches).toEqual([]);
  });

  it('is what the typed client (longtail/client) sends and reads, every answer checked too', async () => {
    const checkedFetch: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      const response = await fetch(request);
      const url = new URL(request.url);
      check(request.method, `${url.pathname}${url.search}`, response.status, await response.clone().json());
      return response;
    };
    const client = new LongtailClient({
      apiUrl: local.stack.apiUrl,
      apiKey: apiKeys.alice,
      fetch: checkedFetch,
    });

    const accepted = await client.submitJob({ model: 'churn-risk', input: { records: [record] } }, 'typed-1');
    const job = await client.getJob(accepted.jobId);
    // Not filtered by status: the job may have moved on between the two calls.
    const page = await client.listJobs({ limit: 5 });
    const { models } = await client.listModels();
    const metadata = await client.modelMetadata('churn-risk');
    const missing = await client.getJob('no-such-job').catch((error: unknown) => error);
    const notResumable = await client.resumeJob(accepted.jobId).catch((error: unknown) => error);

    expect(job).toMatchObject({
      jobId: accepted.jobId,
      model: 'churn-risk',
      input: { type: 'records', recordCount: 1 },
    });
    expect(page.jobs.map((j) => j.jobId)).toContain(accepted.jobId);
    expect(models.map((m) => m.name)).toContain('churn-risk');
    expect(metadata.platform).toBe('onnxruntime_onnx');
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
    expect(notResumable).toMatchObject({ status: 409, code: 'NOT_RESUMABLE' });
    expect(mismatches).toEqual([]);
  });

  it('has had every documented route answer a success that fits the document', () => {
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );

    expect(documented.filter((route) => !succeeded.has(route))).toEqual([]);
    expect(mismatches).toEqual([]);
    expect(checked.size).toBe(documented.length);
  });

  it('notices an answer that does not fit', () => {
    const before = mismatches.length;
    check('GET', '/jobs/some-id', 200, { jobId: 'x' });
    check('GET', '/jobs/some-id', 418, {});
    check('GET', '/console', 200, { page: 'index' });

    expect(mismatches.slice(before)).toEqual([
      expect.stringContaining("must have required property 'status'"),
      expect.stringContaining('the document gives no 418'),
      expect.stringContaining('gives no application/json body for 200 of /console'),
    ]);
    mismatches.length = before;
  });
});
