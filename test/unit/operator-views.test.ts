import { executionOf, shardsOf } from '../../lib/use-cases/operator-views';
import type { ExecutionHistoryReader, HistoryEvent } from '../../lib/ports/executions';
import { InMemoryJobStore, InMemoryShardProgressStore } from '../fixtures/in-memory';
import { aJob, aShardProgress, executionArn, jobId } from '../fixtures/jobs';

/** A history reader holding one execution's events (none: the execution is unknown). */
const historyOf = (events?: HistoryEvent[]): ExecutionHistoryReader => ({ history: async () => events });

const stored = async (overrides = {}) => {
  const store = new InMemoryJobStore();
  await store.create(aJob({ ownerId: 'alice', ...overrides }));
  return store;
};

describe('executionOf', () => {
  it('summarizes the execution of the caller’s job, state by state', async () => {
    const store = await stored({ executionArn });
    const view = await executionOf('alice', jobId, {
      store,
      history: historyOf([
        { id: 1, timestamp: '2026-01-01T00:00:00Z', type: 'ExecutionStarted' },
        {
          id: 2,
          timestamp: '2026-01-01T00:00:00Z',
          type: 'TaskStateEntered',
          stateName: 'Mark job running',
          input: '{}',
        },
      ]),
    });

    expect(view.message).toBeNull();
    expect(view.execution?.runs.map((run) => [run.stateName, run.status])).toEqual([
      ['Mark job running', 'running'],
    ]);
  });

  it('hides another owner’s job as if it did not exist', async () => {
    const store = await stored({ executionArn });

    await expect(executionOf('bob', jobId, { store, history: historyOf([]) })).rejects.toMatchObject({
      code: 'JOB_NOT_FOUND',
    });
  });

  it('says a pending job has no execution yet', async () => {
    const store = await stored({ status: 'pending' });

    const view = await executionOf('alice', jobId, { store, history: historyOf() });

    expect(view).toMatchObject({
      executionArn: null,
      execution: null,
      message: expect.stringContaining('no execution yet'),
    });
  });

  it('says the history is gone when Step Functions no longer knows the execution', async () => {
    const store = await stored({ executionArn });

    await expect(executionOf('alice', jobId, { store, history: historyOf(undefined) })).rejects.toMatchObject(
      {
        code: 'EXECUTION_HISTORY_GONE',
      },
    );
  });

  it('says so when the history holds the start and end but no state', async () => {
    const store = await stored({ executionArn, status: 'completed' });

    const view = await executionOf('alice', jobId, {
      store,
      history: historyOf([
        { id: 1, timestamp: '2026-01-01T00:00:00Z', type: 'ExecutionStarted' },
        { id: 2, timestamp: '2026-01-01T00:00:09Z', type: 'ExecutionSucceeded' },
      ]),
    });

    expect(view.message).toContain('holds no state events');
  });
});

describe('shardsOf', () => {
  it('lists every planned shard, the ones without a row as pending, with records per second and retries', async () => {
    const store = await stored({ status: 'running', shardCount: 3 });
    const progress = new InMemoryShardProgressStore();
    await progress.report(
      jobId,
      aShardProgress({
        index: 0,
        processed: 100,
        startedAt: '2026-01-01T00:00:00Z',
        updatedAt: '2026-01-01T00:00:04Z',
      }),
    );
    await progress.report(
      jobId,
      aShardProgress({
        index: 2,
        status: 'failed',
        attempt: 2,
        processed: 0,
        error: { code: 'WORKER_FAILED', message: 'exit 1' },
      }),
    );

    const view = await shardsOf('alice', jobId, { store, progress });

    expect(view.shards.map((shard) => [shard.index, shard.status, shard.retried])).toEqual([
      [0, 'succeeded', false],
      [1, 'pending', false],
      [2, 'failed', true],
    ]);
    expect(view.shards[0]).toMatchObject({ recordsPerSecond: 25 });
    expect(view.shards[2]).toMatchObject({ error: { code: 'WORKER_FAILED' } });
  });
});
