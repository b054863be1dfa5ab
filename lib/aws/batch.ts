import { ListJobsCommand, SubmitJobCommand, TerminateJobCommand } from '@aws-sdk/client-batch';
import type { BatchClient, JobStatus as BatchJobStatus } from '@aws-sdk/client-batch';
import { batchClient } from './clients';
import { requireEnv } from '../config';
import { batchJobNameOf } from '../domain/locations';
import type { BatchJobTerminator } from '../ports/batch-jobs';
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
