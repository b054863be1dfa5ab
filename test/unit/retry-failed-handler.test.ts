import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/retry-failed';
import { idempotentJobId } from '../../lib/use-cases/create-job';
import { setHandlerEnv, testResources } from '../fixtures/env';
import { bodyOf, httpEvent } from '../fixtures/http-events';
import type { ErrorBody } from '../fixtures/http-events';
import { aJob, jsonObjectBody, storedJob, textObjectBody } from '../fixtures/jobs';
import { lambdaContext } from '../fixtures/lambda-context';
import { aPlan } from '../fixtures/plans';
import { answerShippedModels } from '../fixtures/models';

const dynamo = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);

const parentId = 'parent-1';
const childId = idempotentJobId('alice', `retry-failed:${parentId}`);
const parent = aJob({ jobId: parentId, status: 'completed', counts: { total: 3, succeeded: 2, failed: 1 } });
const plan = aPlan({ jobId: parentId, records: [3] });

const retryEvent = (ownerId = 'alice') =>
  httpEvent({
    method: 'POST',
    path: `/jobs/${parentId}/retry-failed`,
    routeKey: 'POST /jobs/{jobId}/retry-failed',
    pathParameters: { jobId: parentId },
    ownerId,
  });
const retry = (ownerId?: string) => handler(retryEvent(ownerId), lambdaContext('longtail-test-retryFailed'));

describe('retry-failed handler', () => {
  beforeEach(() => {
    setHandlerEnv();
    for (const mock of [dynamo, s3, sqs]) mock.reset();
    answerShippedModels(dynamo);
    dynamo.on(GetCommand, { TableName: testResources.jobsTable }).resolves({});
    dynamo.on(GetCommand, { Key: { jobId: parentId } }).resolves({ Item: storedJob(parent) });
    dynamo.on(PutCommand).resolves({});
    s3.on(GetObjectCommand).rejects(
      new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }),
    );
    s3.on(GetObjectCommand, {
      Bucket: testResources.outputsBucket,
      Key: `work/${parentId}/plan.json`,
    }).callsFake(() => ({ Body: jsonObjectBody(plan) }));
    s3.on(GetObjectCommand, {
      Bucket: testResources.outputsBucket,
      Key: `outputs/${parentId}/records.jsonl.out.failed`,
    }).callsFake(() => ({
      Body: textObjectBody(
        '{"line":2,"record":"{\\"tenure_months\\":","error":{"code":"MALFORMED_JSON","message":"m"}}\n',
      ),
    }));
    s3.on(PutObjectCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  });

  it('answers 202 with the new job, its parent and where to watch it', async () => {
    const response = await retry();

    expect(response.statusCode).toBe(202);
    expect(bodyOf(response)).toEqual({
      jobId: childId,
      parentJobId: parentId,
      status: 'pending',
      statusUrl: `${testResources.publicApiUrl}/jobs/${childId}`,
      outputUri: `s3://${testResources.outputsBucket}/outputs/${childId}/`,
    });
    expect(response.headers).toMatchObject({ location: `${testResources.publicApiUrl}/jobs/${childId}` });
    expect(response.headers).not.toHaveProperty('idempotent-replayed');
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: testResources.inputsBucket,
      Key: `retries/${childId}/00000-records.jsonl`,
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      MessageBody: JSON.stringify({ jobId: childId }),
    });
  });

  it('answers a second request with the same job and idempotent-replayed: true', async () => {
    await retry();
    const child = dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item;
    dynamo.on(GetCommand, { Key: { jobId: childId } }).resolves({ Item: child });

    const response = await retry();

    expect(response.statusCode).toBe(202);
    expect(bodyOf(response)).toMatchObject({ jobId: childId });
    expect(response.headers).toMatchObject({ 'idempotent-replayed': 'true' });
    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 1);
  });

  it("answers 404 for another owner's job", async () => {
    const response = await retry('bob');

    expect(response.statusCode).toBe(404);
    expect(bodyOf<ErrorBody>(response).error.code).toBe('JOB_NOT_FOUND');
    expect(response.body).not.toContain('alice');
  });

  it('answers 409 JOB_NOT_FINISHED while the job runs', async () => {
    dynamo
      .on(GetCommand, { Key: { jobId: parentId } })
      .resolves({ Item: storedJob({ ...parent, status: 'running' }) });

    const response = await retry();

    expect(response.statusCode).toBe(409);
    expect(bodyOf<ErrorBody>(response).error.code).toBe('JOB_NOT_FINISHED');
  });

  it('answers 409 NOTHING_TO_RETRY for a job with no failed record', async () => {
    dynamo
      .on(GetCommand, { Key: { jobId: parentId } })
      .resolves({ Item: storedJob({ ...parent, counts: { total: 3, succeeded: 3, failed: 0 } }) });

    const response = await retry();

    expect(response.statusCode).toBe(409);
    expect(bodyOf<ErrorBody>(response).error.code).toBe('NOTHING_TO_RETRY');
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
  });
});
