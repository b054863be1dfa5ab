import type { JobUsage } from '../../domain/cost';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../clients';
import { resources } from '../../config';
import { Conflict, InvalidInput, TransitionRejected } from '../../errors';
import { previousStatusesOf } from '../../domain/job';
import type { Job, JobStatus } from '../../domain/job';
import type { JobPage, JobStore, ListJobsQuery, PlanSummary, TransitionFields } from '../../ports/job-store';

/** Index names and the attributes that feed them, as serverless.yml declares them. */
export const jobTableIndexes = {
  byOwner: 'byOwner',
  byOwnerStatus: 'byOwnerStatus',
  byActiveStatus: 'byActiveStatus',
} as const;

const ownerStatusKey = (ownerId: string, status: JobStatus) => `${ownerId}#${status}`;

/** Records are kept 90 days after creation; DynamoDB's TTL removes them. */
const retentionSeconds = 90 * 24 * 3600;

type StoredJob = Job & { ownerStatus: string; expiresAt: number; activeStatus?: string };

/** Set only while a job is pending or running: the sparse index the sweeper reads. */
const activeStatusOf = (status: JobStatus) =>
  status === 'pending' || status === 'running' ? status : undefined;

const toStored = (job: Job): StoredJob => ({
  ...job,
  ownerStatus: ownerStatusKey(job.ownerId, job.status),
  ...(activeStatusOf(job.status) ? { activeStatus: activeStatusOf(job.status) } : {}),
  expiresAt: Math.floor(Date.parse(job.createdAt) / 1000) + retentionSeconds,
});

const fromStored = (item: Record<string, unknown>): Job => {
  const {
    ownerStatus: _ownerStatus,
    expiresAt: _expiresAt,
    activeStatus: _active,
    ...job
  } = item as unknown as StoredJob;
  return job;
};

const encodeCursor = (key: Record<string, unknown> | undefined) =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;

/**
 * A cursor is the LastEvaluatedKey of the same query: the table key, the index keys, and the
 * partition value this query asks for. Anything else (forged, another owner's, a status-filtered
 * cursor reused without the filter) would make DynamoDB fail the query, so it is refused here.
 */
const decodeCursor = (
  cursor: string | undefined,
  partition: { name: 'ownerId' | 'ownerStatus'; value: string },
): Record<string, unknown> | undefined => {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const expected = ['createdAt', 'jobId', partition.name].sort();
  const fits =
    typeof key === 'object' &&
    key !== null &&
    !Array.isArray(key) &&
    JSON.stringify(Object.keys(key).sort()) === JSON.stringify(expected) &&
    Object.values(key).every((value) => typeof value === 'string') &&
    (key as Record<string, unknown>)[partition.name] === partition.value;
  if (!fits) {
    throw new InvalidInput('INVALID_CURSOR', 'The cursor is not one this API returned for this query.');
  }
  return key as Record<string, unknown>;
};

export class DynamoJobStore implements JobStore {
  constructor(
    private readonly client: () => DynamoDBDocumentClient = dynamoDocumentClient.get,
    private readonly tableName: () => string = resources.jobsTable,
  ) {}

  async create(job: Job): Promise<void> {
    try {
      await this.client().send(
        new PutCommand({
          TableName: this.tableName(),
          Item: toStored(job),
          ConditionExpression: 'attribute_not_exists(jobId)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new Conflict('JOB_EXISTS', `Job ${job.jobId} already exists.`);
      }
      throw error;
    }
  }

  async get(jobId: string): Promise<Job | undefined> {
    const { Item } = await this.client().send(
      new GetCommand({ TableName: this.tableName(), Key: { jobId }, ConsistentRead: true }),
    );
    return Item ? fromStored(Item) : undefined;
  }

  async listByOwner(ownerId: string, query: ListJobsQuery): Promise<JobPage> {
    const partition =
      query.status === undefined
        ? { name: 'ownerId' as const, value: ownerId }
        : { name: 'ownerStatus' as const, value: ownerStatusKey(ownerId, query.status) };
    const { Items = [], LastEvaluatedKey } = await this.client().send(
      new QueryCommand({
        TableName: this.tableName(),
        IndexName: partition.name === 'ownerId' ? jobTableIndexes.byOwner : jobTableIndexes.byOwnerStatus,
        KeyConditionExpression: `${partition.name} = :key`,
        ExpressionAttributeValues: { ':key': partition.value },
        ScanIndexForward: false,
        Limit: query.limit,
        ExclusiveStartKey: decodeCursor(query.cursor, partition),
      }),
    );
    return { jobs: Items.map(fromStored), nextCursor: encodeCursor(LastEvaluatedKey) };
  }

  async listActive(status: 'pending' | 'running', before: string, pageSize = 100): Promise<Job[]> {
    const jobs: Job[] = [];
    const pages = paginateQuery(
      { client: this.client(), pageSize },
      {
        TableName: this.tableName(),
        IndexName: jobTableIndexes.byActiveStatus,
        KeyConditionExpression: 'activeStatus = :status AND createdAt < :before',
        ExpressionAttributeValues: { ':status': status, ':before': before },
      },
    );
    for await (const { Items = [] } of pages) jobs.push(...Items.map(fromStored));
    return jobs;
  }

  async recordCancellation(jobId: string, done: { counts: Job['counts']; partialOutputs: string[] }) {
    const { Attributes } = await this.client().send(
      new UpdateCommand({
        TableName: this.tableName(),
        Key: { jobId },
        UpdateExpression: 'SET counts = :counts, partialOutputs = :outputs',
        ConditionExpression: '#status = :cancelled',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':counts': done.counts,
          ':outputs': done.partialOutputs,
          ':cancelled': 'cancelled',
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return fromStored(Attributes ?? {});
  }

  async reopen(jobId: string, resumedAt: string) {
    const job = await this.get(jobId);
    if (!job) throw new TransitionRejected('JOB_NOT_FOUND', `Job ${jobId} does not exist.`);
    try {
      const { Attributes } = await this.client().send(
        new UpdateCommand({
          TableName: this.tableName(),
          Key: { jobId },
          UpdateExpression:
            'SET #status = :running, ownerStatus = :ownerStatus, activeStatus = :running, resumedAt = :at REMOVE #error, completedAt, partialOutputs',
          ConditionExpression: '#status = :failed',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
          ExpressionAttributeValues: {
            ':running': 'running',
            ':failed': 'failed',
            ':ownerStatus': ownerStatusKey(job.ownerId, 'running'),
            ':at': resumedAt,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromStored(Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = await this.get(jobId);
        throw new TransitionRejected(
          'INVALID_TRANSITION',
          `Job ${jobId} is ${current?.status ?? 'gone'}; only a failed job can be resumed.`,
        );
      }
      throw error;
    }
  }

  async recordPlan(jobId: string, plan: PlanSummary) {
    const counted = plan.totalRecords !== undefined;
    await this.client().send(
      new UpdateCommand({
        TableName: this.tableName(),
        Key: { jobId },
        UpdateExpression: `SET shardCount = :shards, recordsCounted = :counted${counted ? ', counts.#total = :total' : ''}${plan.inputBytes !== undefined ? ', inputBytes = :bytes' : ''}`,
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status', ...(counted ? { '#total': 'total' } : {}) },
        ExpressionAttributeValues: {
          ':shards': plan.shardCount,
          ':counted': counted,
          ...(counted ? { ':total': plan.totalRecords } : {}),
          ...(plan.inputBytes !== undefined ? { ':bytes': plan.inputBytes } : {}),
          ':running': 'running',
        },
      }),
    );
  }

  async recordUsage(jobId: string, usage: JobUsage) {
    await this.client().send(
      new UpdateCommand({
        TableName: this.tableName(),
        Key: { jobId },
        UpdateExpression: 'SET #usage = :usage',
        ConditionExpression: 'attribute_exists(jobId)',
        ExpressionAttributeNames: { '#usage': 'usage' },
        ExpressionAttributeValues: { ':usage': usage },
      }),
    );
  }

  async transition(jobId: string, to: JobStatus, fields: TransitionFields = {}): Promise<Job> {
    const from = previousStatusesOf(to);
    const job = await this.get(jobId);
    if (!job) throw new TransitionRejected('JOB_NOT_FOUND', `Job ${jobId} does not exist.`);
    const assignments: Record<string, unknown> = {
      ...fields,
      status: to,
      ownerStatus: ownerStatusKey(job.ownerId, to),
      activeStatus: activeStatusOf(to),
    };
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = Object.entries(assignments)
      .filter(([, value]) => value !== undefined)
      .map(([name, value], i) => {
        names[`#f${i}`] = name;
        values[`:v${i}`] = value;
        return `#f${i} = :v${i}`;
      });
    from.forEach((status, i) => {
      values[`:from${i}`] = status;
    });
    try {
      const { Attributes } = await this.client().send(
        new UpdateCommand({
          TableName: this.tableName(),
          Key: { jobId },
          UpdateExpression: `SET ${sets.join(', ')}${activeStatusOf(to) ? '' : ' REMOVE activeStatus'}`,
          ConditionExpression: `#status IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
          ExpressionAttributeNames: { ...names, '#status': 'status' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromStored(Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = await this.get(jobId);
        throw new TransitionRejected(
          'INVALID_TRANSITION',
          `Job ${jobId} is ${current?.status ?? 'gone'}; it cannot become ${to}.`,
          { status: current?.status },
        );
      }
      throw error;
    }
  }
}
