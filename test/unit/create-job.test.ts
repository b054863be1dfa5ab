import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/create-job';
import { idempotentJobId } from '../../lib/use-cases/create-job';
import { defaultJobOptions } from '../../lib/domain/job-options';
import { setHandlerEnv, testResources } from '../fixtures/env';
import { bodyOf, createJobEvent, httpEvent } from '../fixtures/http-events';
import type { ErrorBody } from '../fixtures/http-events';
import { churnRecords } from '../fixtures/jobs';
import { lambdaContext } from '../fixtures/lambda-context';
import { answerShippedModels } from '../fixtures/models';

const dynamo = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Accepted {
  jobId: string;
  status: string;
  statusUrl: string;
  outputUri: string;
}

const inlineJob = (records: unknown[] = churnRecords) => ({ model: 'churn-risk', input: { records } });

const invoke = (event: ReturnType<typeof createJobEvent>) => handler(event, lambdaContext());

const errorOf = (response: { body: string }) => bodyOf<ErrorBody>(response).error;

const expectNothingWritten = () => {
  expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  expect(dynamo).not.toHaveReceivedCommand(PutCommand);
  expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
};

describe('create-job handler', () => {
  beforeEach(() => {
    setHandlerEnv({ LONGTAIL_INLINE_LIMIT_BYTES: undefined });
    dynamo.reset();
    answerShippedModels(dynamo);
    s3.reset();
    sqs.reset();
    dynamo.on(PutCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  });

  describe('accepting a job', () => {
    it('answers 202 with the job id, its status, where to watch it and where its output will be', async () => {
      const response = await invoke(createJobEvent(inlineJob()));

      expect(response.statusCode).toBe(202);
      const body = bodyOf<Accepted>(response);
      expect(body.jobId).toMatch(uuidPattern);
      expect(body).toEqual({
        jobId: body.jobId,
        status: 'pending',
        statusUrl: `${testResources.publicApiUrl}/jobs/${body.jobId}`,
        outputUri: `s3://${testResources.outputsBucket}/outputs/${body.jobId}/records.jsonl.out`,
      });
      expect(response.headers).toMatchObject({
        location: `${testResources.publicApiUrl}/jobs/${body.jobId}`,
        'content-type': 'application/json',
      });
    });

    it('builds the status URL from the request domain when no public URL is configured', async () => {
      setHandlerEnv({ LONGTAIL_PUBLIC_API_URL: undefined });

      const response = await invoke(createJobEvent(inlineJob()));

      const body = bodyOf<Accepted>(response);
      expect(body.statusUrl).toBe(`https://abc123.execute-api.us-east-1.amazonaws.com/jobs/${body.jobId}`);
    });

    it('stores inline records as JSON Lines in the inputs bucket', async () => {
      const response = await invoke(createJobEvent(inlineJob()));

      const { jobId } = bodyOf<Accepted>(response);
      expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
      expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
        Bucket: testResources.inputsBucket,
        Key: expect.stringMatching(new RegExp(`^inline/${jobId}/[0-9a-f]{16}/records\\.jsonl$`)),
        Body: `${JSON.stringify(churnRecords[0])}\n${JSON.stringify(churnRecords[1])}\n`,
        ContentType: 'application/x-ndjson',
      });
    });

    it('writes the pending job to the jobs table only if it does not exist yet', async () => {
      const response = await invoke(
        createJobEvent({ ...inlineJob(), webhookUrl: 'https://hooks.example.com/x' }),
      );

      const { jobId } = bodyOf<Accepted>(response);
      expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 1);
      const put = dynamo.commandCalls(PutCommand)[0]?.args[0].input;
      const inlineKey = s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Key;
      expect(put?.TableName).toBe(testResources.jobsTable);
      expect(put?.ConditionExpression).toBe('attribute_not_exists(jobId)');
      expect(put?.Item).toMatchObject({
        jobId,
        ownerId: 'alice',
        status: 'pending',
        ownerStatus: 'alice#pending',
        model: 'churn-risk',
        modelVersion: '1',
        input: { type: 'records', recordCount: 2 },
        inputUri: `s3://${testResources.inputsBucket}/${inlineKey}`,
        outputUri: `s3://${testResources.outputsBucket}/outputs/${jobId}/records.jsonl.out`,
        failureUri: `s3://${testResources.outputsBucket}/outputs/${jobId}/records.jsonl.out.failed`,
        counts: { total: 0, succeeded: 0, failed: 0 },
        webhookUrl: 'https://hooks.example.com/x',
        options: defaultJobOptions(),
        source: 'api',
        requestHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(inlineKey).toBe(`inline/${jobId}/${String(put?.Item?.requestHash).slice(0, 16)}/records.jsonl`);
      const createdAt = Date.parse(String(put?.Item?.createdAt));
      expect(put?.Item?.expiresAt).toBe(Math.floor(createdAt / 1000) + 90 * 24 * 3600);
    });

    it('queues the job id for dispatch', async () => {
      const response = await invoke(createJobEvent(inlineJob()));

      const { jobId } = bodyOf<Accepted>(response);
      expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
      expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
        QueueUrl: testResources.jobsQueueUrl,
        MessageBody: JSON.stringify({ jobId }),
      });
    });

    it('gives every request its own job id', async () => {
      const first = bodyOf<Accepted>(await invoke(createJobEvent(inlineJob())));
      const second = bodyOf<Accepted>(await invoke(createJobEvent(inlineJob())));

      expect(first.jobId).not.toBe(second.jobId);
    });

    it('takes an input already in the inputs bucket without copying it', async () => {
      const s3Uri = `s3://${testResources.inputsBucket}/drop/churn-risk/customers.csv`;

      const response = await invoke(createJobEvent({ model: 'churn-risk', input: { s3Uri } }));

      expect(response.statusCode).toBe(202);
      const { jobId, outputUri } = bodyOf<Accepted>(response);
      expect(outputUri).toBe(`s3://${testResources.outputsBucket}/outputs/${jobId}/customers.csv.out`);
      expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
      expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
        input: { type: 's3', s3Uri, s3DataType: 'S3Object' },
        inputUri: s3Uri,
      });
    });

    it('takes an s3Uri ending in / as every object under that prefix, with outputs under the job’s folder', async () => {
      const s3Uri = `s3://${testResources.inputsBucket}/batches/2025-01/`;

      const response = await invoke(createJobEvent({ model: 'churn-risk', input: { s3Uri } }));

      expect(response.statusCode).toBe(202);
      const { jobId, outputUri } = bodyOf<Accepted>(response);
      expect(outputUri).toBe(`s3://${testResources.outputsBucket}/outputs/${jobId}/`);
      expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
        input: { type: 's3', s3Uri, s3DataType: 'S3Prefix' },
        outputUri: `s3://${testResources.outputsBucket}/outputs/${jobId}/`,
        failureUri: `s3://${testResources.outputsBucket}/outputs/${jobId}/`,
      });
    });

    it('takes a manifest of objects when asked to', async () => {
      const s3Uri = `s3://${testResources.inputsBucket}/manifests/january.json`;

      const response = await invoke(
        createJobEvent({ model: 'churn-risk', input: { s3Uri, s3DataType: 'ManifestFile' } }),
      );

      const { jobId, outputUri } = bodyOf<Accepted>(response);
      expect(outputUri).toBe(`s3://${testResources.outputsBucket}/outputs/${jobId}/`);
      expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
        input: { type: 's3', s3Uri, s3DataType: 'ManifestFile' },
      });
    });

    it('stores the job options with their defaults filled in, so that every shard runs with the same', async () => {
      const options = { maxBatchSize: 16, joinSource: 'Input', outputFilter: '$.prediction' };

      await invoke(createJobEvent({ ...inlineJob(), options }));

      expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item?.options).toEqual({
        ...defaultJobOptions(),
        ...options,
      });
    });

    it('checks inline records as the model will read them: after the inputFilter', async () => {
      const records = churnRecords.map((features, i) => ({ id: `c-${i}`, features }));

      const response = await invoke(
        createJobEvent({ model: 'churn-risk', input: { records }, options: { inputFilter: '$.features' } }),
      );

      expect(response.body).not.toContain('INVALID_RECORDS');
      expect(response.statusCode).toBe(202);
    });

    it('accepts a JSON content type with a charset', async () => {
      const event = createJobEvent(inlineJob(), {
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
      });

      const response = await invoke(event);

      expect(response.statusCode).toBe(202);
    });

    it('accepts a base64-encoded body', async () => {
      const body = Buffer.from(JSON.stringify(inlineJob())).toString('base64');

      const response = await invoke(createJobEvent(body, { isBase64Encoded: true }));

      expect(response.statusCode).toBe(202);
    });
  });

  describe('rejecting a request', () => {
    it('answers 400 MALFORMED_JSON when the body is not JSON', async () => {
      const response = await invoke(createJobEvent('{"model": "churn-risk",'));

      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe('MALFORMED_JSON');
      expectNothingWritten();
    });

    it('answers 400 MALFORMED_JSON when there is no body', async () => {
      const response = await invoke(
        httpEvent({ method: 'POST', path: '/jobs', headers: { 'content-type': 'application/json' } }),
      );

      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe('MALFORMED_JSON');
      expectNothingWritten();
    });

    it('answers 415 UNSUPPORTED_MEDIA_TYPE for a text/plain body', async () => {
      const event = createJobEvent(inlineJob(), { headers: { 'content-type': 'text/plain' } });

      const response = await invoke(event);

      expect(response.statusCode).toBe(415);
      expect(errorOf(response)).toEqual({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'Send the request body as application/json.',
      });
      expectNothingWritten();
    });

    it.each([
      ['an unknown top-level field', { ...inlineJob(), priority: 'high' }, 'priority'],
      ['a missing model', { input: { records: churnRecords } }, 'model'],
      ['a model that is not a string', { model: 42, input: { records: churnRecords } }, 'model'],
      ['records that are not an array', { model: 'churn-risk', input: { records: 'a,b' } }, 'input'],
      ['an empty records array', { model: 'churn-risk', input: { records: [] } }, 'input'],
      [
        'both records and an s3Uri',
        { model: 'churn-risk', input: { records: churnRecords, s3Uri: 's3://a/b' } },
        'input',
      ],
      [
        'a webhook that is not http(s)',
        { ...inlineJob(), webhookUrl: 'ftp://hooks.example.com' },
        'webhookUrl',
      ],
    ])('answers 400 INVALID_REQUEST for %s, naming the field', async (_what, request, path) => {
      const response = await invoke(createJobEvent(request));

      expect(response.statusCode).toBe(400);
      const error = errorOf(response);
      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain(path);
      expect(JSON.stringify(error.details?.issues)).toContain(path);
      expectNothingWritten();
    });

    it('answers 400 INVALID_REQUEST for a JSON body that is not an object', async () => {
      const response = await invoke(createJobEvent('[1, 2, 3]'));

      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe('INVALID_REQUEST');
    });

    it('answers 400 UNKNOWN_MODEL and lists the models there are', async () => {
      const response = await invoke(createJobEvent({ model: 'fraud', input: { records: churnRecords } }));

      expect(response.statusCode).toBe(400);
      const error = errorOf(response);
      expect(error.code).toBe('UNKNOWN_MODEL');
      expect(error.message).toContain('"fraud"');
      expect(error.details).toEqual({ available: ['churn-risk', 'text-orientation', 'text-recognition'] });
      expectNothingWritten();
    });

    it('answers 400 INVALID_RECORDS naming each bad record by index and field', async () => {
      const records = [
        churnRecords[0],
        { ...churnRecords[1], contract: 'weekly' },
        { ...churnRecords[0], tenure_months: 'long' },
      ];

      const response = await invoke(createJobEvent(inlineJob(records)));

      expect(response.statusCode).toBe(400);
      const error = errorOf(response);
      expect(error.code).toBe('INVALID_RECORDS');
      expect(error.message).toBe("2 of 3 records do not fit model churn-risk's inputs.");
      expect(error.details?.issues).toEqual([
        expect.objectContaining({ record: 1, field: 'contract' }),
        expect.objectContaining({ record: 2, field: 'tenure_months' }),
      ]);
      expect(error.details?.fields).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'contract' })]),
      );
      expectNothingWritten();
    });

    it('reports at most 20 record issues', async () => {
      const records = Array.from({ length: 30 }, () => ({ ...churnRecords[0], contract: 'weekly' }));

      const response = await invoke(createJobEvent(inlineJob(records)));

      const error = errorOf(response);
      expect(error.message).toBe("30 of 30 records do not fit model churn-risk's inputs.");
      expect(error.details?.issues).toHaveLength(20);
    });

    it('answers 400 INPUT_OUTSIDE_BUCKET for an input in another bucket', async () => {
      const response = await invoke(
        createJobEvent({ model: 'churn-risk', input: { s3Uri: 's3://someone-else/data.csv' } }),
      );

      expect(response.statusCode).toBe(400);
      const error = errorOf(response);
      expect(error.code).toBe('INPUT_OUTSIDE_BUCKET');
      expect(error.message).toContain(`s3://${testResources.inputsBucket}/`);
      expectNothingWritten();
    });

    it("answers 400 INPUT_OUTSIDE_BUCKET for an input under inline/, where other jobs' records are", async () => {
      const response = await invoke(
        createJobEvent({
          model: 'churn-risk',
          input: { s3Uri: `s3://${testResources.inputsBucket}/inline/another-job/records.jsonl` },
        }),
      );

      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe('INPUT_OUTSIDE_BUCKET');
      expectNothingWritten();
    });

    it('answers 400 INPUT_OUTSIDE_BUCKET for an input under retries/, where retry-failed copies records', async () => {
      const response = await invoke(
        createJobEvent({
          model: 'churn-risk',
          input: { s3Uri: `s3://${testResources.inputsBucket}/retries/another-job/00000-records.jsonl` },
        }),
      );

      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe('INPUT_OUTSIDE_BUCKET');
      expectNothingWritten();
    });

    it.each([
      ['inline', 'S3Prefix'],
      ['in', 'S3Prefix'],
      ['retries', 'S3Prefix'],
    ] as const)(
      'answers 400 INPUT_OUTSIDE_BUCKET for a prefix "%s" that would take in the reserved folders',
      async (key, s3DataType) => {
        const response = await invoke(
          createJobEvent({
            model: 'churn-risk',
            input: { s3Uri: `s3://${testResources.inputsBucket}/${key}`, s3DataType },
          }),
        );

        expect(response.statusCode).toBe(400);
        expect(errorOf(response).code).toBe('INPUT_OUTSIDE_BUCKET');
        expectNothingWritten();
      },
    );

    it.each([
      ['an unknown option', { maxBatchSize: 8, parallelism: 4 }, 'parallelism'],
      ['a batch size out of range', { maxBatchSize: 0 }, 'maxBatchSize'],
      ['an unknown split type', { splitType: 'RecordIO' }, 'splitType'],
      ['a failure budget above 100%', { maxFailedRecordsPercent: 101 }, 'maxFailedRecordsPercent'],
    ])('answers 400 INVALID_REQUEST for %s, naming the option', async (_what, options, name) => {
      const response = await invoke(createJobEvent({ ...inlineJob(), options }));

      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe('INVALID_REQUEST');
      expect(JSON.stringify(errorOf(response).details?.issues)).toContain(name);
      expectNothingWritten();
    });

    it('answers 400 INVALID_FILTER for a filter that does not parse', async () => {
      const response = await invoke(createJobEvent({ ...inlineJob(), options: { inputFilter: '$[' } }));

      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe('INVALID_FILTER');
      expectNothingWritten();
    });

    it('answers 400 INVALID_S3_URI for an input that is not an s3:// URI', async () => {
      const response = await invoke(
        createJobEvent({ model: 'churn-risk', input: { s3Uri: 'https://example.com/data.csv' } }),
      );

      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe('INVALID_S3_URI');
      expectNothingWritten();
    });

    it('answers 413 PAYLOAD_TOO_LARGE above the inline limit, naming the limit and S3', async () => {
      setHandlerEnv({ LONGTAIL_INLINE_LIMIT_BYTES: '2048' });
      const records = Array.from({ length: 40 }, () => churnRecords[0]);

      const response = await invoke(createJobEvent(inlineJob(records)));

      expect(response.statusCode).toBe(413);
      const error = errorOf(response);
      expect(error.code).toBe('PAYLOAD_TOO_LARGE');
      expect(error.message).toContain('2048 bytes');
      expect(error.message).toContain(`s3://${testResources.inputsBucket}/`);
      expect(error.message).toContain('s3Uri');
      expect(error.details).toMatchObject({ limitBytes: 2048 });
      expectNothingWritten();
    });

    it('accepts a body of exactly the inline limit and rejects one byte more', async () => {
      const bytes = Buffer.byteLength(JSON.stringify(inlineJob()));

      setHandlerEnv({ LONGTAIL_INLINE_LIMIT_BYTES: String(bytes) });
      const atLimit = await invoke(createJobEvent(inlineJob()));
      setHandlerEnv({ LONGTAIL_INLINE_LIMIT_BYTES: String(bytes - 1) });
      const overLimit = await invoke(createJobEvent(inlineJob()));

      expect(atLimit.statusCode).toBe(202);
      expect(overLimit.statusCode).toBe(413);
    });

    it('answers 401 UNAUTHORIZED when the request carries no authorizer context', async () => {
      const response = await invoke(createJobEvent(inlineJob(), { ownerId: null }));

      expect(response.statusCode).toBe(401);
      expect(errorOf(response).code).toBe('UNAUTHORIZED');
      expectNothingWritten();
    });
  });

  describe('with an Idempotency-Key', () => {
    const withKey = (key: string, body: unknown = inlineJob(), ownerId = 'alice') =>
      createJobEvent(body, { headers: { 'Idempotency-Key': key }, ownerId });

    /** Makes the jobs table hold what the last PutCommand wrote, as a replay would find it. */
    const rememberWrittenJob = () => {
      const item = dynamo.commandCalls(PutCommand).at(-1)?.args[0].input.Item;
      dynamo.on(GetCommand, { TableName: testResources.jobsTable }).resolves({ Item: item });
      return item;
    };

    beforeEach(() => {
      dynamo.on(GetCommand, { TableName: testResources.jobsTable }).resolves({});
    });

    it('derives the job id from the owner and the key, and looks for an earlier job first', async () => {
      const response = await invoke(withKey('order-42'));

      expect(response.statusCode).toBe(202);
      const { jobId } = bodyOf<Accepted>(response);
      expect(jobId).toBe(idempotentJobId('alice', 'order-42'));
      expect(jobId).toMatch(uuidPattern);
      expect(dynamo).toHaveReceivedCommandWith(GetCommand, { Key: { jobId }, ConsistentRead: true });
      expect(response.headers).not.toHaveProperty('idempotent-replayed');
    });

    it('gives two owners with the same key two jobs', async () => {
      const alices = bodyOf<Accepted>(await invoke(withKey('order-42')));
      const bobs = bodyOf<Accepted>(await invoke(withKey('order-42', inlineJob(), 'bob')));

      expect(alices.jobId).not.toBe(bobs.jobId);
    });

    it('answers a replay of the same request with the same job, 202 and idempotent-replayed, writing nothing new', async () => {
      const first = await invoke(withKey('order-42'));
      rememberWrittenJob();
      dynamo.on(PutCommand).rejects(new Error('a replay must not write the job again'));
      s3.resetHistory();
      sqs.resetHistory();

      const replay = await invoke(withKey('order-42'));

      expect(replay.statusCode).toBe(202);
      expect(bodyOf(replay)).toEqual(bodyOf(first));
      expect(replay.headers).toMatchObject({
        'idempotent-replayed': 'true',
        location: first.headers.location,
      });
      expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 1);
      expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    });

    it('queues a replayed job again while it is still pending, in case the first request stopped short', async () => {
      const first = bodyOf<Accepted>(await invoke(withKey('order-42')));
      rememberWrittenJob();
      sqs.resetHistory();

      await invoke(withKey('order-42'));

      expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
        MessageBody: JSON.stringify({ jobId: first.jobId }),
      });
    });

    it('does not queue a replayed job that has already started', async () => {
      await invoke(withKey('order-42'));
      const item = rememberWrittenJob();
      dynamo
        .on(GetCommand, { TableName: testResources.jobsTable })
        .resolves({ Item: { ...item, status: 'running', ownerStatus: 'alice#running' } });
      sqs.resetHistory();

      const replay = await invoke(withKey('order-42'));

      expect(bodyOf<Accepted>(replay).status).toBe('running');
      expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
    });

    it('answers 409 IDEMPOTENCY_KEY_REUSED when the key comes back with another request', async () => {
      const first = bodyOf<Accepted>(await invoke(withKey('order-42')));
      rememberWrittenJob();
      s3.resetHistory();

      const response = await invoke(withKey('order-42', inlineJob([churnRecords[1]])));

      expect(response.statusCode).toBe(409);
      expect(errorOf(response)).toMatchObject({
        code: 'IDEMPOTENCY_KEY_REUSED',
        details: { jobId: first.jobId },
      });
      expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 1);
      expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    });

    it.each([
      ['an empty key', ''],
      ['a key with a space', 'order 42'],
      ['a key with a non-ASCII character', 'commande-n°42'],
      ['a key longer than 255 characters', 'k'.repeat(256)],
    ])('answers 400 INVALID_IDEMPOTENCY_KEY for %s, and writes nothing', async (_what, key) => {
      const response = await invoke(withKey(key));

      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe('INVALID_IDEMPOTENCY_KEY');
      expectNothingWritten();
      expect(dynamo).not.toHaveReceivedCommand(GetCommand);
    });

    it('accepts a key of 255 printable characters', async () => {
      const response = await invoke(withKey(`${'k'.repeat(254)}~`));

      expect(response.statusCode).toBe(202);
    });
  });

  describe('failing on our side', () => {
    it('answers 500 without revealing the internal error', async () => {
      const secret = `dynamo exploded ${Math.random().toString(36).slice(2)}`;
      dynamo.on(PutCommand).rejects(new Error(secret));

      const response = await invoke(createJobEvent(inlineJob()));

      expect(response.statusCode).toBe(500);
      expect(errorOf(response)).toEqual({
        code: 'INTERNAL_ERROR',
        message: 'Something went wrong on our side; try again.',
      });
      expect(response.body).not.toContain(secret);
      expect(response.body).not.toContain('dynamo');
    });

    it('does not queue a job it could not record', async () => {
      dynamo.on(PutCommand).rejects(new Error('throttled'));

      await invoke(createJobEvent(inlineJob()));

      expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
    });
  });
});
