import { cancelJob } from '../../lib/use-cases/cancel-job';
import type { BatchJobTerminator } from '../../lib/ports/batch-jobs';
import type { CancelDeps } from '../../lib/use-cases/cancel-job';
import type { ExecutionStopper } from '../../lib/ports/executions';
import { InMemoryJobStore, InMemoryShardProgressStore, RecordingEventPublisher } from '../fixtures/in-memory';
import { aJob, aShardProgress, executionArn, jobId } from '../fixtures/jobs';

class RecordingStopper implements ExecutionStopper {
  readonly stopped: string[] = [];
  async stop(arn: string) {
    this.stopped.push(arn);
  }
}

class RecordingTerminator implements BatchJobTerminator {
  readonly terminated: string[] = [];
  async terminateAllFor(id: string) {
    this.terminated.push(id);
    return 1;
  }
}

const setUp = (...jobs: ReturnType<typeof aJob>[]) => {
  const usageRecorded: { jobId: string; until: string; terminatedBefore: boolean }[] = [];
  const deps = {
    usageRecorded,
    store: new InMemoryJobStore(...jobs),
    executions: new RecordingStopper(),
    batch: new RecordingTerminator(),
    progress: new InMemoryShardProgressStore(),
    events: new RecordingEventPublisher(),
    outputsBucket: 'outputs',
    recordUsage: async (id: string, until: Date) => {
      usageRecorded.push({
        jobId: id,
        until: until.toISOString(),
        terminatedBefore: deps.batch.terminated.includes(id),
      });
    },
    now: () => new Date('2026-01-01T00:00:00.000Z'),
  } satisfies CancelDeps & { usageRecorded: unknown };
  return deps;
};

describe('cancelJob', () => {
  it('cancels a pending job without touching Batch, and announces it', async () => {
    const deps = setUp(aJob({ status: 'pending' }));

    const { job, alreadyCancelled } = await cancelJob('alice', jobId, deps);

    expect(alreadyCancelled).toBe(false);
    expect(job).toMatchObject({
      status: 'cancelled',
      completedAt: '2026-01-01T00:00:00.000Z',
      cancelRequestedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(deps.batch.terminated).toEqual([]);
    // Nothing ran in Batch: there is no usage to record.
    expect(deps.usageRecorded).toEqual([]);
    expect(deps.events.events.map((e) => e.type)).toEqual(['job.cancelled']);
  });

  it('stops a running job’s execution and Batch jobs and lists the finished shards’ outputs', async () => {
    const deps = setUp(
      aJob({ status: 'running', executionArn, counts: { total: 300, succeeded: 0, failed: 0 } }),
    );
    await deps.progress.report(
      jobId,
      aShardProgress({ index: 0, status: 'succeeded', succeeded: 95, failed: 5 }),
    );
    await deps.progress.report(
      jobId,
      aShardProgress({ index: 1, status: 'running', succeeded: 40, failed: 0 }),
    );

    const { job } = await cancelJob('alice', jobId, deps);

    expect(deps.executions.stopped).toEqual([executionArn]);
    expect(deps.batch.terminated).toEqual([jobId]);
    expect(job.counts).toEqual({ total: 300, succeeded: 135, failed: 5 });
    expect(job.partialOutputs).toEqual([`s3://outputs/work/${jobId}/shards/0.out`]);
  });

  it('records the usage of a running job’s Batch attempts up to the cancel, once they are terminated', async () => {
    const deps = setUp(aJob({ status: 'running', executionArn }));

    await cancelJob('alice', jobId, deps);
    await cancelJob('alice', jobId, deps);

    expect(deps.usageRecorded).toEqual([
      { jobId, until: '2026-01-01T00:00:00.000Z', terminatedBefore: true },
    ]);
  });

  it('terminates the Batch jobs of a job that started between the read and the cancel', async () => {
    const deps = setUp(aJob({ status: 'pending' }));
    const read = deps.store.get.bind(deps.store);
    let reads = 0;
    deps.store.get = async (id: string) => {
      const job = await read(id);
      // "Mark job running" wins the race right after cancelJob's first read.
      if (reads++ === 0) await deps.store.transition(id, 'running', { executionArn });
      return job;
    };

    const { job } = await cancelJob('alice', jobId, deps);

    expect(job.status).toBe('cancelled');
    expect(deps.executions.stopped).toEqual([executionArn]);
    expect(deps.batch.terminated).toEqual([jobId]);
  });

  it('does nothing more when asked again', async () => {
    const deps = setUp(aJob({ status: 'cancelled' }));

    const { alreadyCancelled } = await cancelJob('alice', jobId, deps);

    expect(alreadyCancelled).toBe(true);
    expect(deps.events.events).toEqual([]);
  });

  it.each(['completed', 'failed'] as const)('refuses a %s job with 409 JOB_ALREADY_ENDED', async (status) => {
    const deps = setUp(aJob({ status }));

    await expect(cancelJob('alice', jobId, deps)).rejects.toMatchObject({
      name: 'Conflict',
      code: 'JOB_ALREADY_ENDED',
    });
    expect(deps.events.events).toEqual([]);
  });

  it('answers another owner’s job as missing', async () => {
    const deps = setUp(aJob({ status: 'running' }));

    await expect(cancelJob('bob', jobId, deps)).rejects.toMatchObject({
      name: 'NotFound',
      code: 'JOB_NOT_FOUND',
    });
    expect((await deps.store.get(jobId))?.status).toBe('running');
  });
});
