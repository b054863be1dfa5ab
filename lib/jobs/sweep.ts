import { DescribeExecutionCommand, ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { sfnClient } from '../aws/clients';
import { resources } from '../config';
import { logger } from '../logger';
import { executionArnOf } from './execution-starter';
import type { JobQueue } from './job-queue';
import type { JobStore } from './job-store';
import { reconcileEndedExecution } from './reconcile';
import type { ReconcileDeps } from './reconcile';

export type ExecutionStatus =
  'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface ExecutionLookup {
  /** The execution's status, or undefined when there is none. */
  describe(
    executionArn: string,
  ): Promise<{ status: ExecutionStatus; error?: string; cause?: string } | undefined>;
}

export class StepFunctionsExecutionLookup implements ExecutionLookup {
  constructor(private readonly client: () => SFNClient = sfnClient.get) {}

  async describe(executionArn: string) {
    try {
      const execution = await this.client().send(new DescribeExecutionCommand({ executionArn }));
      return { status: execution.status as ExecutionStatus, error: execution.error, cause: execution.cause };
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return undefined;
      throw error;
    }
  }
}

export interface SweepDeps extends ReconcileDeps {
  store: JobStore;
  queue: JobQueue;
  executions: ExecutionLookup;
  stateMachineArn?: () => string;
  /** How long a job may sit pending or running before the sweeper looks at it. */
  graceMs: number;
}

/**
 * The scheduled safety net behind the execution-status rule. A job pending past the grace
 * period whose execution does not exist (a crash between writing the job and enqueueing it, or
 * a lost message) is enqueued again — dispatch is idempotent. A pending or running job whose
 * execution has ended without recording it is reconciled, as the rule would have.
 */
export const sweepStuckJobs = async (deps: SweepDeps) => {
  const now = (deps.now ?? (() => new Date()))();
  const before = new Date(now.getTime() - deps.graceMs).toISOString();
  const stateMachineArn = (deps.stateMachineArn ?? resources.stateMachineArn)();
  let requeued = 0;
  let reconciled = 0;
  for (const status of ['pending', 'running'] as const) {
    for (const job of await deps.store.listActive(status, before)) {
      const executionArn = job.executionArn ?? executionArnOf(stateMachineArn, job.jobId);
      const execution = await deps.executions.describe(executionArn);
      if (!execution) {
        if (status === 'pending') {
          await deps.queue.enqueue({ jobId: job.jobId });
          requeued++;
          logger.warn('Pending job had no execution; enqueued it again', { jobId: job.jobId });
        }
        continue;
      }
      if (
        execution.status === 'RUNNING' ||
        execution.status === 'PENDING_REDRIVE' ||
        execution.status === 'SUCCEEDED'
      )
        continue;
      const ended = await reconcileEndedExecution(
        {
          executionArn,
          name: job.jobId,
          status: execution.status,
          error: execution.error,
          cause: execution.cause,
        },
        deps,
      );
      if (ended) reconciled++;
    }
  }
  return { requeued, reconciled };
};
