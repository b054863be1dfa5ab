import { sweepStuckJobs } from '../../lib/use-cases/sweep';
import type { ExecutionLookup, ExecutionStatus } from '../../lib/ports/executions';
import { InMemoryJobStore, RecordingEventPublisher, RecordingJobQueue } from '../fixtures/in-memory';
import { aJob } from '../fixtures/jobs';

const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:longtail-test-inference-job';
const executionOf = (jobId: string) =>
  `arn:aws:states:us-east-1:123456789012:execution:longtail-test-inference-job:${jobId}`;
const old = '2026-01-01T00:00:00.000Z';
const now = new Date('2026-01-01T01:00:00.000Z');

const lookup = (statuses: Record<string, ExecutionStatus>): ExecutionLookup => ({
  describe: async (arn) => {
    const status = statuses[arn];
    return status ? { status, error: 'States.Runtime', cause: 'boom' } : undefined;
  },
});

const sweep = (store: InMemoryJobStore, statuses: Record<string, ExecutionStatus>) => {
  const queue = new RecordingJobQueue();
  const events = new RecordingEventPublisher();
  const result = sweepStuckJobs({
    store,
    queue,
    events,
    executions: lookup(statuses),
    stateMachineArn: () => stateMachineArn,
    graceMs: 5 * 60_000,
    now: () => now,
  });
  return { result, queue, events };
};

describe('sweepStuckJobs', () => {
  it('enqueues again an old pending job that has no execution', async () => {
    const store = new InMemoryJobStore(aJob({ jobId: 'lost', status: 'pending', createdAt: old }));

    const { result, queue } = sweep(store, {});

    await expect(result).resolves.toEqual({ requeued: 1, reconciled: 0 });
    expect(queue.messages).toEqual([{ jobId: 'lost' }]);
  });

  it('fails a running job whose execution failed without recording it, and announces it', async () => {
    const store = new InMemoryJobStore(
      aJob({ jobId: 'orphan', status: 'running', createdAt: old, executionArn: executionOf('orphan') }),
    );

    const { result, events } = sweep(store, { [executionOf('orphan')]: 'FAILED' });

    await expect(result).resolves.toEqual({ requeued: 0, reconciled: 1 });
    expect((await store.get('orphan'))?.error?.code).toBe('EXECUTION_FAILED');
    expect(events.events.map((e) => e.type)).toEqual(['job.failed']);
  });

  it('leaves jobs whose execution is running, and jobs younger than the grace period', async () => {
    const store = new InMemoryJobStore(
      aJob({ jobId: 'busy', status: 'running', createdAt: old, executionArn: executionOf('busy') }),
      aJob({ jobId: 'fresh', status: 'pending', createdAt: '2026-01-01T00:58:00.000Z' }),
    );

    const { result, queue } = sweep(store, { [executionOf('busy')]: 'RUNNING' });

    await expect(result).resolves.toEqual({ requeued: 0, reconciled: 0 });
    expect(queue.messages).toEqual([]);
  });
});
