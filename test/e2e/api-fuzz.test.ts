import fc from 'fast-check';
import { demoCustomers } from '../../local/demo-data';
import { apiRoutes, requestsFor } from '../support/fuzz/http-requests';
import type { FuzzRequest } from '../support/fuzz/http-requests';
import { fuzzParameters, fuzzScale } from '../support/fuzz/settings';
import { apiKeys, useLocalStack } from '../support/local-stack';
import type { TestStack } from '../support/local-stack';

/** Requests per run of `npm test` (about 8 ms each); FUZZ_SCALE multiplies it. */
const baseRuns = 600;

const record = demoCustomers(1)[0]!;
const validJob = { model: 'churn-risk', input: { records: [record] } };

/** What the local API Gateway itself answers, as AWS does: `{ message }`, not the API's envelope. */
const gatewayAnswers: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  413: 'Request Entity Too Large',
};

type Answer = Awaited<ReturnType<TestStack['api']>>;

const describeRequest = (request: FuzzRequest, answer: Answer) =>
  `${request.method} ${request.path.slice(0, 300)} → ${answer.status} ${answer.text.slice(0, 300)}`;

/** No 5xx, and a 4xx that says why in `{ error: { code, message } }` (or is API Gateway's own). */
const expectClientAnswer = (request: FuzzRequest, answer: Answer) => {
  if (answer.status >= 500) throw new Error(`5xx: ${describeRequest(request, answer)}`);
  if (answer.status < 400) return;
  const error = answer.json?.error;
  const fromGateway =
    gatewayAnswers[answer.status] !== undefined && answer.json?.message === gatewayAnswers[answer.status];
  if (fromGateway) return;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string')
    throw new Error(`4xx without { error: { code, message } }: ${describeRequest(request, answer)}`);
};

const listJobIds = async (local: TestStack, key: string): Promise<string[]> => {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const { json } = await local.api(`/jobs?limit=100${query}`, { key });
    ids.push(...(json.jobs as { jobId: string }[]).map((job) => job.jobId));
    cursor = json.nextCursor as string | null;
  } while (cursor);
  return ids;
};

describe('the API under hostile requests', () => {
  const local = useLocalStack(undefined, { batchConcurrency: 2 });
  const accepted = new Set<string>();
  let existingJobId = '';

  beforeAll(async () => {
    const { json } = await local.api('/jobs', { method: 'POST', body: validJob });
    existingJobId = String(json.jobId);
    accepted.add(existingJobId);
  });

  it('fuzzes every route serverless.yml declares', () => {
    const keys = apiRoutes().map((route) => `${route.method} ${route.path}`);
    expect(keys).toEqual(
      expect.arrayContaining(['GET /jobs/{jobId}', 'POST /models/{name}/versions', 'GET /health']),
    );
    expect(new Set(keys).size).toBe(keys.length);
  });

  it(
    'answers every request with a 2xx or a 4xx that says why, and makes jobs only when it accepts',
    async () => {
      const context = {
        apiKeys: [apiKeys.alice, apiKeys.bob],
        jobIds: [existingJobId],
        validBodies: { 'POST /jobs': validJob },
      };
      const requests = fc.oneof(...apiRoutes().map((route) => requestsFor(route, context)));

      await fc.assert(
        fc.asyncProperty(requests, async (request) => {
          const answer = await local.api(request.path, {
            method: request.method,
            key: null,
            headers: request.headers,
            ...(request.body === undefined ? {} : { body: request.body }),
          });
          expectClientAnswer(request, answer);
          const jobId = answer.json?.jobId;
          if (request.method === 'POST' && answer.status < 300 && typeof jobId === 'string')
            accepted.add(jobId);
        }),
        fuzzParameters(baseRuns),
      );

      const jobs = [...(await listJobIds(local, apiKeys.alice)), ...(await listJobIds(local, apiKeys.bob))];
      expect(jobs.filter((jobId) => !accepted.has(jobId))).toEqual([]);
      expect((await local.api('/health', { key: null })).status).toBe(200);
    },
    30_000 * fuzzScale(),
  );

  it.each([
    ['a 5,000-character job id', '/jobs/' + 'a'.repeat(5000), 'GET'],
    ['a 5,000-character job id to cancel', `/jobs/${'a'.repeat(5000)}/cancel`, 'POST'],
    ['a 5,000-character job id to retry', `/jobs/${'a'.repeat(5000)}/retry-failed`, 'POST'],
    ['a 5,000-character version to delete', `/models/churn-risk/versions/${'v'.repeat(5000)}`, 'DELETE'],
    ['a job id with a space', '/jobs/a%20b', 'GET'],
  ])('answers 400 INVALID_PATH_PARAMETER for %s', async (_, path, method) => {
    const { status, json } = await local.api(path, { method });
    expect(status).toBe(400);
    expect(json.error?.code).toBe('INVALID_PATH_PARAMETER');
  });

  it.each([
    ['bytes that are not UTF-8', '/jobs/%ED%A0%80', 'GET'],
    ['a lone surrogate to cancel', '/jobs/%ED%A0%80/cancel', 'POST'],
    ['a lone surrogate to retry', '/jobs/%ED%A0%80/retry-failed', 'POST'],
    ['a stray percent sign', '/jobs/100%', 'GET'],
    ['a sequence cut short', '/models/%E2%82', 'GET'],
  ])('answers 400 MALFORMED_PATH for %s', async (_, path, method) => {
    const { status, json } = await local.api(path, { method });
    expect(status).toBe(400);
    expect(json.error?.code).toBe('MALFORMED_PATH');
  });

  it('answers 431 REQUEST_HEADERS_TOO_LARGE for a query string over the header limit', async () => {
    const { status, json } = await local.api(`/models/a/versions?q=${'a'.repeat(20_000)}`, {
      method: 'POST',
    });
    expect(status).toBe(431);
    expect(json.error?.code).toBe('REQUEST_HEADERS_TOO_LARGE');
  });

  it('answers a path starting with // as a path, not as another host', async () => {
    const { status } = await local.api('//a%zz/jobs');
    expect(status).toBe(404);
  });
});
