import { DescribeJobsCommand, ListJobsCommand, TerminateJobCommand } from '@aws-sdk/client-batch';
import type { BatchClient, JobStatus, JobSummary } from '@aws-sdk/client-batch';

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
  jobStatus: JobStatus,
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
