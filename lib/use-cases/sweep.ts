import { resources } from '../config';
import { logger } from '../logger';
import { executionArnOf } from '../domain/locations';
import type { ExecutionLookup } from '../ports/executions';
import type { JobQueue } from '../ports/job-queue';
import type { JobStore } from '../ports/job-store';
import { reconcileEndedExecution } from './reconcile';
import type { ReconcileDeps } from './reconcile';

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
