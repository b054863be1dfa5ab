import {
  DescribeComputeEnvironmentsCommand,
  DescribeJobQueuesCommand,
  DescribeJobsCommand,
  ListJobsCommand,
  SubmitJobCommand,
  TerminateJobCommand,
} from '@aws-sdk/client-batch';
import type { BatchClient, JobDetail, JobStatus as BatchJobStatus, JobSummary } from '@aws-sdk/client-batch';
import { batchClient } from './clients';
import { requireEnv } from '../config';
import { batchJobNameOf } from '../domain/locations';
import type { BatchJobTerminator, BatchQueueReader, BatchUsageReader } from '../ports/batch-jobs';
import type { BatchAttemptUsage } from '../domain/cost';
import { checkModelVariable } from '../domain/model-version';
import type { ModelChecks } from '../ports/model-registry';

const unfinished: BatchJobStatus[] = ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING'];

export class AwsBatchJobTerminator implements BatchJobTerminator {
  constructor(
    private readonly client: () => BatchClient = batchClient.get,
    private readonly jobQueue: () => string = () => requireEnv('BATCH_JOB_QUEUE'),
  ) {}

  async terminateAllFor(jobId: string, reason: string) {
    let terminated = 0;
    let nextToken: string | undefined;
    do {
      const page = await this.client().send(
        new ListJobsCommand({
          jobQueue: this.jobQueue(),
          filters: [{ name: 'JOB_NAME', values: [batchJobNameOf(jobId)] }],
          nextToken,
        }),
      );
      for (const summary of page.jobSummaryList ?? []) {
        if (!summary.jobId || !summary.status || !unfinished.includes(summary.status)) continue;
        await this.client().send(new TerminateJobCommand({ jobId: summary.jobId, reason }));
        terminated++;
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return terminated;
  }
}

/**
 * Seconds the oldest RUNNABLE job of a queue has waited (0 when none waits). Batch publishes no
 * such metric, and a job stuck RUNNABLE (no capacity, or asking for more than any instance has)
 * otherwise shows nowhere.
 */
export const oldestRunnableAgeSeconds = async (
  client: BatchClient,
  jobQueue: string,
  now = Date.now(),
): Promise<number> => {
  let oldest = now;
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListJobsCommand({ jobQueue, jobStatus: 'RUNNABLE', nextToken }));
    for (const job of page.jobSummaryList ?? []) {
      if (job.createdAt !== undefined && job.createdAt < oldest) oldest = job.createdAt;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return Math.max(0, Math.round((now - oldest) / 1000));
};

const listAll = async (
  client: BatchClient,
  jobQueue: string,
  jobStatus: BatchJobStatus,
): Promise<JobSummary[]> => {
  const jobs: JobSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListJobsCommand({ jobQueue, jobStatus, nextToken }));
    jobs.push(...(page.jobSummaryList ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return jobs;
};

/** Whether any child of these array jobs has started: instances do join, the rest wait their turn. */
const anyChildStarted = async (client: BatchClient, arrayJobIds: string[]): Promise<boolean> => {
  for (let i = 0; i < arrayJobIds.length; i += 100) {
    const { jobs } = await client.send(new DescribeJobsCommand({ jobs: arrayJobIds.slice(i, i + 100) }));
    for (const job of jobs ?? []) {
      const summary = job.arrayProperties?.statusSummary ?? {};
      if ((summary.STARTING ?? 0) + (summary.RUNNING ?? 0) > 0) return true;
    }
  }
  return false;
};

/** The reason a stuck job fails with: Batch's statusReason, which the job's error then quotes. */
export const stuckRunnableReason = (minutes: number, batchSays?: string) =>
  `RUNNABLE for over ${minutes} minutes while no job of the queue started: no GPU instance joined ` +
  `the compute environments. Check that their subnets reach ECS, ECR, S3, DynamoDB and CloudWatch ` +
  `Logs (public IPv4, NAT or VPC endpoints), the G-instance vCPU quotas, and the compute ` +
  `environments' status (README: Deploy).${batchSays ? ` Batch says: ${batchSays}` : ''}`;

/**
 * Fails the jobs of a queue that have waited RUNNABLE longer than `maxSeconds` while nothing in
 * the queue starts or runs. Batch's own time limits cover only the blocked-queue reasons it
 * detects (capacity, resource requirements); instances that never register with ECS (no route
 * to its endpoints) leave jobs RUNNABLE with none of them, up to the state machine's 3-day limit.
 * A job waiting its turn behind running ones is left alone. Array jobs count through their
 * parent (PENDING while a child waits). Returns the ids it terminated.
 */
export const failStuckRunnableJobs = async (
  client: BatchClient,
  jobQueue: string,
  maxSeconds: number,
  now = Date.now(),
): Promise<string[]> => {
  if (maxSeconds <= 0) return [];
  const [starting, running] = await Promise.all([
    listAll(client, jobQueue, 'STARTING'),
    listAll(client, jobQueue, 'RUNNING'),
  ]);
  if (starting.length + running.length > 0) return [];
  const [runnable, pending] = await Promise.all([
    listAll(client, jobQueue, 'RUNNABLE'),
    listAll(client, jobQueue, 'PENDING'),
  ]);
  const tooOld = (job: JobSummary) =>
    job.jobId !== undefined && job.createdAt !== undefined && now - job.createdAt > maxSeconds * 1000;
  const stuck = [...runnable, ...pending].filter(tooOld);
  if (stuck.length === 0) return [];
  const arrays = pending.flatMap((job) => (job.jobId ? [job.jobId] : []));
  if (arrays.length > 0 && (await anyChildStarted(client, arrays))) return [];
  const minutes = Math.round(maxSeconds / 60);
  for (const job of stuck) {
    await client.send(
      new TerminateJobCommand({ jobId: job.jobId, reason: stuckRunnableReason(minutes, job.statusReason) }),
    );
  }
  return stuck.map((job) => job.jobId as string);
};

/**
 * Model checks run as a Batch job of the worker's own image: ONNX Runtime is there, with the
 * memory and disk a model of several GB needs, which a Lambda has not.
 */
export class BatchModelChecks implements ModelChecks {
  constructor(
    private readonly client: () => BatchClient = batchClient.get,
    private readonly jobQueue: () => string = () => requireEnv('BATCH_JOB_QUEUE'),
    private readonly jobDefinition: () => string = () => requireEnv('BATCH_JOB_DEFINITION'),
  ) {}

  async request(ref: { ownerId: string; name: string; version: string }) {
    await this.client().send(
      new SubmitJobCommand({
        jobName: `longtail-model-check-${ref.name}-${ref.version}`
          .replace(/[^A-Za-z0-9_-]/g, '_')
          .slice(0, 128),
        jobQueue: this.jobQueue(),
        jobDefinition: this.jobDefinition(),
        parameters: { jobId: 'none' },
        containerOverrides: {
          environment: [{ name: checkModelVariable, value: `${ref.ownerId}/${ref.name}/${ref.version}` }],
        },
      }),
    );
  }
}

const describeAll = async (client: BatchClient, jobIds: string[]): Promise<JobDetail[]> => {
  const jobs: JobDetail[] = [];
  for (let i = 0; i < jobIds.length; i += 100) {
    const page = await client.send(new DescribeJobsCommand({ jobs: jobIds.slice(i, i + 100) }));
    jobs.push(...(page.jobs ?? []));
  }
  return jobs;
};

const running: BatchJobStatus[] = ['STARTING', 'RUNNING'];

/**
 * A job's attempts that ran, with the instance time each held (Batch's startedAt → stoppedAt).
 * Batch lists an attempt only once it has stopped; with `until`, the attempt still running is
 * counted too, from the job's startedAt to then (a cancelled job's, up to the cancel).
 */
const attemptsOf = (job: JobDetail, shard: number | null, until?: Date): BatchAttemptUsage[] => {
  const ended = (job.attempts ?? []).flatMap((attempt, index) => {
    if (attempt.startedAt === undefined || attempt.stoppedAt === undefined) return [];
    return [
      {
        batchJobId: job.jobId ?? '',
        shard,
        attempt: index + 1,
        startedAt: new Date(attempt.startedAt).toISOString(),
        stoppedAt: new Date(attempt.stoppedAt).toISOString(),
        seconds: Math.max(0, (attempt.stoppedAt - attempt.startedAt) / 1000),
      },
    ];
  });
  if (!until || job.startedAt === undefined || !job.status || !running.includes(job.status)) return ended;
  // A retry's startedAt may still be the first attempt's: it cannot start before the last one stopped.
  const startedAt = Math.max(job.startedAt, ...(job.attempts ?? []).map((a) => a.stoppedAt ?? 0));
  const stoppedAt = Math.max(startedAt, until.getTime());
  return [
    ...ended,
    {
      batchJobId: job.jobId ?? '',
      shard,
      attempt: (job.attempts?.length ?? 0) + 1,
      startedAt: new Date(startedAt).toISOString(),
      stoppedAt: new Date(stoppedAt).toISOString(),
      seconds: (stoppedAt - startedAt) / 1000,
    },
  ];
};

/** Every Batch job of a Longtail job (a retry or a resume submits another under the same name), described. */
export const batchJobsOf = async (client: BatchClient, jobQueue: string, jobId: string) => {
  const summaries: JobSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListJobsCommand({
        jobQueue,
        filters: [{ name: 'JOB_NAME', values: [batchJobNameOf(jobId)] }],
        nextToken,
      }),
    );
    summaries.push(...(page.jobSummaryList ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const jobs = await describeAll(
    client,
    summaries.flatMap((summary) => (summary.jobId ? [summary.jobId] : [])),
  );
  return jobs.sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0));
};

/**
 * What ran one shard: each array job's child at that index (`<batchJobId>:<shard>`), or for a
 * single Batch job (one shard) the job itself.
 */
export const batchJobsOfShard = async (
  client: BatchClient,
  jobQueue: string,
  jobId: string,
  shard: number,
): Promise<JobDetail[]> => {
  const jobs = await batchJobsOf(client, jobQueue, jobId);
  const singles = jobs.filter((job) => !job.arrayProperties?.size && shard === 0);
  const arrays = jobs.filter((job) => (job.arrayProperties?.size ?? 0) > shard);
  const children = await describeAll(
    client,
    arrays.map((job) => `${job.jobId}:${shard}`),
  );
  const created = new Map(jobs.map((job) => [job.jobId, job.createdAt ?? 0]));
  const createdOf = (job: JobDetail) => created.get(job.jobId?.split(':')[0]) ?? job.createdAt ?? 0;
  return [...singles, ...children].sort((a, b) => createdOf(a) - createdOf(b));
};

/**
 * The attempts of a Longtail job from Batch itself: its Batch jobs by name, and for an array
 * job each child's attempts (the parent runs nothing).
 */
export class AwsBatchUsageReader implements BatchUsageReader {
  constructor(
    private readonly client: () => BatchClient = batchClient.get,
    private readonly jobQueue: () => string = () => requireEnv('BATCH_JOB_QUEUE'),
  ) {}

  async attemptsFor(jobId: string, until?: Date) {
    const client = this.client();
    const jobs = await batchJobsOf(client, this.jobQueue(), jobId);
    const attempts: BatchAttemptUsage[] = [];
    for (const job of jobs) {
      const size = job.arrayProperties?.size;
      if (!size) {
        attempts.push(...attemptsOf(job, null, until));
        continue;
      }
      const children = await describeAll(
        client,
        Array.from({ length: size }, (_, index) => `${job.jobId}:${index}`),
      );
      for (const child of children)
        attempts.push(...attemptsOf(child, child.arrayProperties?.index ?? null, until));
    }
    return attempts;
  }
}

/** The queue's RUNNABLE jobs and its capacity, as the console shows them. */
export class AwsBatchQueueReader implements BatchQueueReader {
  constructor(
    private readonly client: () => BatchClient = batchClient.get,
    private readonly jobQueue: () => string = () => requireEnv('BATCH_JOB_QUEUE'),
  ) {}

  async runnable(now = Date.now()) {
    const jobs = await listAll(this.client(), this.jobQueue(), 'RUNNABLE');
    return jobs.map((job) => ({
      batchJobId: job.jobId ?? '',
      jobName: job.jobName ?? '',
      waitingSeconds: Math.max(0, Math.round((now - (job.createdAt ?? now)) / 1000)),
    }));
  }

  async capacity() {
    const client = this.client();
    const { jobQueues = [] } = await client.send(
      new DescribeJobQueuesCommand({ jobQueues: [this.jobQueue()] }),
    );
    const environmentArns = jobQueues.flatMap((queue) =>
      (queue.computeEnvironmentOrder ?? []).flatMap((entry) =>
        entry.computeEnvironment ? [entry.computeEnvironment] : [],
      ),
    );
    const { computeEnvironments = [] } = environmentArns.length
      ? await client.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: environmentArns }))
      : {};
    return {
      queues: jobQueues.map((queue) => ({
        name: queue.jobQueueName ?? '',
        state: queue.state ?? '',
        status: queue.status ?? '',
      })),
      computeEnvironments: computeEnvironments.map((environment) => ({
        name: environment.computeEnvironmentName ?? '',
        state: environment.state ?? '',
        status: environment.status ?? '',
        desiredvCpus: environment.computeResources?.desiredvCpus ?? 0,
        maxvCpus: environment.computeResources?.maxvCpus ?? 0,
      })),
    };
  }
}
