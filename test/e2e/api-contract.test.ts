import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { demoCustomers } from '../../local/demo-data';
import { TestStack, apiKeys } from '../support/local-stack';

const record = demoCustomers(1)[0]!;

describe('the job API over HTTP', () => {
  const local = new TestStack();

  beforeAll(async () => {
    await local.start({ batchConcurrency: 4 });
  });

  afterAll(async () => {
    await local.stop();
    local.cleanUp();
  });

  describe('authentication', () => {
    it('answers 401 without an Authorization header, as API Gateway does', async () => {
      const { status, json } = await local.api('/jobs', { key: null });
      expect(status).toBe(401);
      expect(json).toEqual({ message: 'Unauthorized' });
    });

    it('answers 403 when the authorizer rejects the key', async () => {
      const { status, json } = await local.api('/jobs', { key: 'not-a-key' });
      expect(status).toBe(403);
      expect(json).toEqual({ message: 'Forbidden' });
    });

    it('serves /health without a key', async () => {
      expect(await local.api('/health', { key: null })).toMatchObject({
        status: 200,
        json: { status: 'ok' },
      });
    });
  });

  describe('bad input', () => {
    const post = (body: unknown, headers?: Record<string, string>) =>
      local.api('/jobs', { method: 'POST', body, headers });

    it.each([
      ['malformed JSON', '{"model": "churn-risk",', 400, 'MALFORMED_JSON'],
      ['a missing model', { input: { records: [record] } }, 400, 'INVALID_REQUEST'],
      ['an unknown model', { model: 'gpt-17', input: { records: [record] } }, 400, 'UNKNOWN_MODEL'],
      [
        'an unknown field',
        { model: 'churn-risk', input: { records: [record] }, priority: 'high' },
        400,
        'INVALID_REQUEST',
      ],
      ['no input', { model: 'churn-risk' }, 400, 'INVALID_REQUEST'],
      ['empty records', { model: 'churn-risk', input: { records: [] } }, 400, 'INVALID_REQUEST'],
      [
        'a record of the wrong type',
        { model: 'churn-risk', input: { records: [{ ...record, tenure_months: 'ten' }] } },
        400,
        'INVALID_RECORDS',
      ],
      [
        'an s3Uri in another bucket',
        { model: 'churn-risk', input: { s3Uri: 's3://someone-elses-bucket/data.jsonl' } },
        400,
        'INPUT_OUTSIDE_BUCKET',
      ],
      [
        'an s3Uri that is not one',
        { model: 'churn-risk', input: { s3Uri: 'https://example.com/data.jsonl' } },
        400,
        'INVALID_S3_URI',
      ],
      [
        'a webhookUrl that is not a URL',
        { model: 'churn-risk', input: { records: [record] }, webhookUrl: 'not a url' },
        400,
        'INVALID_REQUEST',
      ],
    ])('rejects %s with %i %s', async (_case, body, status, code) => {
      const response = await post(body);
      expect(response.status).toBe(status);
      expect(response.json.error?.code).toBe(code);
      expect(response.json.error?.message).toEqual(expect.any(String));
    });

    it('names the failing record and field', async () => {
      const response = await post({
        model: 'churn-risk',
        input: { records: [record, { ...record, contract: 'weekly' }] },
      });
      expect(response.json.error).toMatchObject({
        code: 'INVALID_RECORDS',
        details: { issues: [{ record: 1, field: 'contract' }] },
      });
    });

    it('rejects a body that is not JSON with 415', async () => {
      const response = await post('model=churn-risk', { 'content-type': 'text/plain' });
      expect(response.status).toBe(415);
      expect(response.json.error?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('rejects inline input over the limit with 413, saying the limit and to use S3', async () => {
      const records = Array.from({ length: 3000 }, () => record);
      const response = await post({ model: 'churn-risk', input: { records } });
      expect(response.status).toBe(413);
      expect(response.json.error?.code).toBe('PAYLOAD_TOO_LARGE');
      expect(response.json.error?.message).toMatch(/262144 bytes.*s3:\/\/longtail-local-inputs/);
    });

    it('answers 404 JOB_NOT_FOUND for an unknown job', async () => {
      const response = await local.api('/jobs/does-not-exist');
      expect(response.status).toBe(404);
      expect(response.json.error?.code).toBe('JOB_NOT_FOUND');
    });

    it('rejects a bad status filter and a forged cursor', async () => {
      expect((await local.api('/jobs?status=done')).json.error?.code).toBe('INVALID_REQUEST');
      expect((await local.api('/jobs?cursor=bm90LWEtY3Vyc29y')).json.error?.code).toBe('INVALID_CURSOR');
    });
  });

  describe('owners', () => {
    it('lists the caller’s jobs newest first, by status, a page at a time, and hides other owners’ jobs', async () => {
      const submit = async (key: string) =>
        String(
          (
            await local.api('/jobs', {
              method: 'POST',
              key,
              body: { model: 'churn-risk', input: { records: [record] } },
            })
          ).json.jobId,
        );
      const bobJob = await submit(apiKeys.bob);
      const aliceJobs: string[] = [];
      for (let i = 0; i < 3; i++) aliceJobs.push(await submit(apiKeys.alice));
      await Promise.all([
        ...aliceJobs.map((id) => local.waitForJob(id)),
        local.waitForJob(bobJob, apiKeys.bob),
      ]);

      const firstPage = await local.api('/jobs?limit=2');
      const secondPage = await local.api(`/jobs?limit=2&cursor=${String(firstPage.json.nextCursor)}`);
      const listed = [
        ...(firstPage.json.jobs as { jobId: string }[]),
        ...(secondPage.json.jobs as { jobId: string }[]),
      ].map((j) => j.jobId);
      expect(listed.slice(0, 3)).toEqual([...aliceJobs].reverse());
      expect(listed).not.toContain(bobJob);
      const completed = await local.api('/jobs?status=completed&limit=100');
      expect((completed.json.jobs as { status: string }[]).every((j) => j.status === 'completed')).toBe(true);
      expect((await local.api('/jobs?status=pending')).json.jobs).toEqual([]);
      expect((await local.api(`/jobs/${bobJob}`)).status).toBe(404);
      expect((await local.api(`/jobs/${bobJob}`, { key: apiKeys.bob })).status).toBe(200);
    });
  });

  describe('input scopes', () => {
    afterEach(() => {
      delete process.env.LONGTAIL_OWNER_INPUT_PREFIXES;
    });

    it('refuses an s3Uri outside what its owner may read, directly or through a manifest', async () => {
      process.env.LONGTAIL_OWNER_INPUT_PREFIXES = 'alice:alice/,bob:bob/';
      const aliceFile = await local.putInput('alice/private.jsonl', `${JSON.stringify(record)}\n`);
      const bobManifest = await local.putInput(
        'bob/sneaky.manifest',
        JSON.stringify([{ prefix: `s3://${local.stack.names.inputsBucket}/alice/` }, 'private.jsonl']),
      );

      const direct = await local.api('/jobs', {
        method: 'POST',
        key: apiKeys.bob,
        body: { model: 'churn-risk', input: { s3Uri: aliceFile } },
      });
      const viaManifest = await local.api('/jobs', {
        method: 'POST',
        key: apiKeys.bob,
        body: { model: 'churn-risk', input: { s3Uri: bobManifest, s3DataType: 'ManifestFile' } },
      });
      const own = await local.api('/jobs', {
        method: 'POST',
        body: { model: 'churn-risk', input: { s3Uri: aliceFile } },
      });

      expect(direct.status).toBe(403);
      expect(direct.json.error?.code).toBe('INPUT_NOT_ALLOWED');
      expect((await local.waitForJob(String(viaManifest.json.jobId), apiKeys.bob)).error?.code).toBe(
        'INPUT_NOT_ALLOWED',
      );
      expect((await local.waitForJob(String(own.json.jobId))).status).toBe('completed');
    });
  });

  describe('dispatch', () => {
    it('starts one execution for a job whose message is delivered twice', async () => {
      const submitted = await local.api('/jobs', {
        method: 'POST',
        body: { model: 'churn-risk', input: { records: [record] } },
      });
      const jobId = String(submitted.json.jobId);
      await local.sqs.send(
        new SendMessageCommand({
          QueueUrl: local.stack.names.jobsQueueUrl,
          MessageBody: JSON.stringify({ jobId }),
        }),
      );
      await local.sqs.send(
        new SendMessageCommand({
          QueueUrl: local.stack.names.jobsQueueUrl,
          MessageBody: JSON.stringify({ jobId }),
        }),
      );

      expect((await local.waitForJob(jobId)).status).toBe('completed');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const sfn = new SFNClient({ endpoint: local.stack.awsEndpoint, region: local.stack.region });
      const { executions = [] } = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn: local.stack.names.stateMachineArn }),
      );
      sfn.destroy();
      expect(executions.filter((e) => e.name === jobId)).toHaveLength(1);
      expect((await local.api(`/jobs/${jobId}`)).json.status).toBe('completed');
    });
  });
});
