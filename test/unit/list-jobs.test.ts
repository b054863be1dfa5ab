import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/list-jobs';
import { checkStartKeyLikeDynamo } from '../fixtures/dynamo-query';
import { setHandlerEnv, testResources } from '../fixtures/env';
import { bodyOf, listJobsEvent } from '../fixtures/http-events';
import type { ErrorBody } from '../fixtures/http-events';
import { aJob, storedJob } from '../fixtures/jobs';
import { lambdaContext } from '../fixtures/lambda-context';

const dynamo = mockClient(DynamoDBDocumentClient);

interface Page {
  jobs: { jobId: string; status: string; statusUrl: string }[];
  nextCursor: string | null;
}

const list = (query?: Record<string, string>) => handler(listJobsEvent(query), lambdaContext());

describe('list-jobs handler', () => {
  beforeEach(() => {
    setHandlerEnv();
    dynamo.reset();
    dynamo.on(QueryCommand).resolves({ Items: [] });
  });

  it("lists the caller's jobs newest first from the byOwner index, 20 by default", async () => {
    const newer = aJob({ jobId: 'job-2', createdAt: '2025-01-02T00:00:00.000Z' });
    const older = aJob({ jobId: 'job-1', createdAt: '2025-01-01T00:00:00.000Z' });
    dynamo.on(QueryCommand).resolves({ Items: [storedJob(newer), storedJob(older)] });

    const response = await list();

    expect(response.statusCode).toBe(200);
    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, {
      TableName: testResources.jobsTable,
      IndexName: 'byOwner',
      KeyConditionExpression: 'ownerId = :key',
      ExpressionAttributeValues: { ':key': 'alice' },
      ScanIndexForward: false,
      Limit: 20,
    });
    const page = bodyOf<Page>(response);
    expect(page.jobs.map((job) => job.jobId)).toEqual(['job-2', 'job-1']);
    expect(page.jobs[0]?.statusUrl).toBe(`${testResources.publicApiUrl}/jobs/job-2`);
    expect(page.nextCursor).toBeNull();
  });

  it('does not show storage attributes', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [storedJob(aJob())] });

    const response = await list();

    expect(response.body).not.toContain('ownerStatus');
    expect(response.body).not.toContain('expiresAt');
    expect(response.body).not.toContain('ownerId');
  });

  it('filters by status through the byOwnerStatus index', async () => {
    await list({ status: 'failed' });

    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'byOwnerStatus',
      KeyConditionExpression: 'ownerStatus = :key',
      ExpressionAttributeValues: { ':key': 'alice#failed' },
      ScanIndexForward: false,
    });
  });

  it('passes the requested page size', async () => {
    await list({ limit: '100' });

    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, { Limit: 100 });
  });

  it.each([['0'], ['101'], ['2.5'], ['ten']])('answers 400 INVALID_REQUEST for limit=%s', async (limit) => {
    const response = await list({ limit });

    expect(response.statusCode).toBe(400);
    expect(bodyOf<ErrorBody>(response).error.code).toBe('INVALID_REQUEST');
    expect(bodyOf<ErrorBody>(response).error.message).toContain('limit');
    expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
  });

  it('answers 400 INVALID_REQUEST for an unknown status or query parameter', async () => {
    const badStatus = await list({ status: 'done' });
    const unknown = await list({ sort: 'asc' });

    expect(badStatus.statusCode).toBe(400);
    expect(unknown.statusCode).toBe(400);
    expect(bodyOf<ErrorBody>(unknown).error.code).toBe('INVALID_REQUEST');
  });

  it.each([
    ['garbage', 'not-a-cursor!'],
    ['JSON that is not an object', Buffer.from('[1,2]').toString('base64url')],
    ['JSON null', Buffer.from('null').toString('base64url')],
  ])('answers 400 INVALID_CURSOR for a cursor that is %s', async (_what, cursor) => {
    const response = await list({ cursor });

    expect(response.statusCode).toBe(400);
    expect(bodyOf<ErrorBody>(response).error.code).toBe('INVALID_CURSOR');
    expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
  });

  it('returns a cursor that resumes the query where the last page ended', async () => {
    const lastKey = { jobId: 'job-1', ownerId: 'alice', createdAt: '2025-01-01T00:00:00.000Z' };
    dynamo
      .on(QueryCommand)
      .resolvesOnce({ Items: [storedJob(aJob({ jobId: 'job-1' }))], LastEvaluatedKey: lastKey })
      .resolves({ Items: [storedJob(aJob({ jobId: 'job-0' }))] });

    const first = bodyOf<Page>(await list({ limit: '1' }));
    const second = await list({ limit: '1', cursor: first.nextCursor ?? '' });

    expect(first.nextCursor).toEqual(expect.any(String));
    expect(second.statusCode).toBe(200);
    expect(bodyOf<Page>(second)).toMatchObject({ jobs: [{ jobId: 'job-0' }], nextCursor: null });
    expect(dynamo).toHaveReceivedNthSpecificCommandWith(2, QueryCommand, {
      ExclusiveStartKey: lastKey,
      Limit: 1,
    });
  });

  describe('with a cursor DynamoDB would not accept as a starting key', () => {
    /** DynamoDB's answers: the first page ends at `firstPageEnd`, later pages check their start key. */
    const queryEndingFirstPageAt = (firstPageEnd?: Record<string, string>) => {
      let calls = 0;
      dynamo.on(QueryCommand).callsFake((input: QueryCommandInput) => {
        calls += 1;
        checkStartKeyLikeDynamo(input);
        return calls === 1 && firstPageEnd ? { Items: [], LastEvaluatedKey: firstPageEnd } : { Items: [] };
      });
    };

    beforeEach(() => {
      queryEndingFirstPageAt();
    });

    const cursorOf = (key: Record<string, unknown>) => Buffer.from(JSON.stringify(key)).toString('base64url');

    it('answers 400 INVALID_CURSOR for a JSON object that is not a job key', async () => {
      const response = await list({ cursor: cursorOf({ page: 2 }) });

      expect(response.statusCode).toBe(400);
      expect(bodyOf<ErrorBody>(response).error.code).toBe('INVALID_CURSOR');
    });

    it('answers 400 INVALID_CURSOR for a key naming another owner', async () => {
      const cursor = cursorOf({ jobId: 'job-9', ownerId: 'bob', createdAt: '2025-01-01T00:00:00.000Z' });

      const response = await list({ cursor });

      expect(response.statusCode).toBe(400);
      expect(bodyOf<ErrorBody>(response).error.code).toBe('INVALID_CURSOR');
    });

    it('answers 400 INVALID_CURSOR when a status-filtered cursor is reused without the filter', async () => {
      const statusPageKey = {
        jobId: 'job-1',
        ownerStatus: 'alice#failed',
        createdAt: '2025-01-01T00:00:00.000Z',
      };
      queryEndingFirstPageAt(statusPageKey);
      const { nextCursor } = bodyOf<Page>(await list({ status: 'failed' }));
      expect(nextCursor).toEqual(expect.any(String));

      const response = await list({ cursor: nextCursor ?? '' });

      expect(response.statusCode).toBe(400);
      expect(bodyOf<ErrorBody>(response).error.code).toBe('INVALID_CURSOR');
    });

    it('still follows a cursor it returned', async () => {
      const lastKey = { jobId: 'job-1', ownerId: 'alice', createdAt: '2025-01-01T00:00:00.000Z' };
      queryEndingFirstPageAt(lastKey);
      const { nextCursor } = bodyOf<Page>(await list());

      const response = await list({ cursor: nextCursor ?? '' });

      expect(response.statusCode).toBe(200);
    });
  });

  it('answers 401 without an authorizer context', async () => {
    const response = await handler(listJobsEvent(undefined, { ownerId: null }), lambdaContext());

    expect(response.statusCode).toBe(401);
    expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
  });
});
