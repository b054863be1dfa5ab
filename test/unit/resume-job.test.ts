import { ExecutionNotRedrivable } from '../../lib/errors';
import { attemptAfter } from '../../lib/domain/shard-progress';
import type { ExecutionLookup, ExecutionRedriver, ExecutionStatus } from '../../lib/ports/executions';
import { resumeJob } from '../../lib/use-cases/resume-job';
import { InMemoryJobStore } from '../fixtures/in-memory';
import { aJob, executionArn, jobId } from '../fixtures/jobs';

class RecordingRedriver implements ExecutionRedriver, ExecutionLookup {
  readonly redriven: string[] = [];
  /** What DescribeExecution answers, one status a call; the last one stays. */
  constructor(
    private readonly refuse = false,
    private readonly statuses: ExecutionStatus[] = ['FAILED'],
  ) {}
  async describe() {
    const status = (this.statuses.length > 1 ? this.statuses.shift() : this.statuses[0]) ?? 'FAILED';
    return { status };
  }
  async redrive(arn: string) {
    if (this.refuse) throw new ExecutionNotRedrivable('NOT_RESUMABLE', 'past its redrive period');
    this.redriven.push(arn);
  }
}

const failedWith = (code: string) =>
  aJob({
    status: 'failed',
    executionArn,
    completedAt: '2026-01-01T00:00:00.000Z',
    error: { code, message: 'it failed' },
  });

describe('resumeJob', () => {
  const now = () => new Date('2026-01-02T00:00:00.000Z');

  it.each(['WORKER_FAILED', 'TIMED_OUT', 'INTERNAL_ERROR', 'EXECUTION_FAILED'])(
    'reopens a job failed with %s and redrives its execution',
    async (code) => {
      const store = new InMemoryJobStore(failedWith(code));
      const executions = new RecordingRedriver();

      const job = await resumeJob('alice', jobId, { store, executions, now });

      expect(job).toMatchObject({ status: 'running', resumedAt: '2026-01-02T00:00:00.000Z' });
      expect(job.error).toBeUndefined();
      expect(executions.redriven).toEqual([executionArn]);
    },
  );

  it.each(['TOO_MANY_FAILED_RECORDS', 'EMPTY_INPUT', 'ALL_RECORDS_FAILED', 'INPUT_NOT_FOUND'])(
    'refuses a job failed on its own input (%s) with a 409 that names the code',
    async (code) => {
      const store = new InMemoryJobStore(failedWith(code));
      const executions = new RecordingRedriver();

      await expect(resumeJob('alice', jobId, { store, executions, now })).rejects.toMatchObject({
        name: 'Conflict',
        code: 'NOT_RESUMABLE',
        message: expect.stringContaining(code),
      });
      expect(executions.redriven).toEqual([]);
      expect((await store.get(jobId))?.status).toBe('failed');
    },
  );

  it.each(['pending', 'running', 'completed', 'cancelled'] as const)('refuses a %s job', async (status) => {
    const store = new InMemoryJobStore(aJob({ status, executionArn }));

    await expect(
      resumeJob('alice', jobId, { store, executions: new RecordingRedriver(), now }),
    ).rejects.toMatchObject({ code: 'NOT_RESUMABLE', message: expect.stringContaining(status) });
  });

  it('fails the job again, as it was, when Step Functions refuses the redrive', async () => {
    const store = new InMemoryJobStore(failedWith('WORKER_FAILED'));

    await expect(
      resumeJob('alice', jobId, { store, executions: new RecordingRedriver(true), now }),
    ).rejects.toMatchObject({ code: 'NOT_RESUMABLE', message: expect.stringContaining('redrive period') });
    expect(await store.get(jobId)).toMatchObject({
      status: 'failed',
      error: { code: 'WORKER_FAILED', message: 'it failed' },
    });
  });

  it("answers 404 for another owner's job", async () => {
    const store = new InMemoryJobStore(failedWith('WORKER_FAILED'));

    await expect(
      resumeJob('bob', jobId, { store, executions: new RecordingRedriver(), now }),
    ).rejects.toMatchObject({ name: 'NotFound' });
  });
  it('waits for an execution still ending its failure, then redrives it', async () => {
    const store = new InMemoryJobStore(failedWith('WORKER_FAILED'));
    const executions = new RecordingRedriver(false, ['RUNNING', 'RUNNING', 'FAILED']);
    const naps: number[] = [];

    await resumeJob('alice', jobId, {
      store,
      executions,
      now,
      sleep: async (ms) => {
        naps.push(ms);
      },
    });

    expect(naps).toHaveLength(2);
    expect(executions.redriven).toEqual([executionArn]);
  });

  it('refuses, job untouched, when the execution is still running after the wait', async () => {
    const store = new InMemoryJobStore(failedWith('WORKER_FAILED'));
    const executions = new RecordingRedriver(false, ['RUNNING']);

    await expect(
      resumeJob('alice', jobId, { store, executions, now, settleMs: 0, sleep: async () => {} }),
    ).rejects.toMatchObject({ code: 'NOT_RESUMABLE', message: expect.stringContaining('still ending') });
    expect(executions.redriven).toEqual([]);
    expect((await store.get(jobId))?.status).toBe('failed');
  });
});

describe("a shard row's attempt across Batch jobs", () => {
  it("continues the row's numbers when a resumed job's new Batch job starts again at attempt 1", () => {
    expect(attemptAfter(undefined, 1)).toBe(1);
    expect(attemptAfter(3, 1)).toBe(4);
    // A retry within one Batch job keeps Batch's own number.
    expect(attemptAfter(1, 2)).toBe(2);
  });
});
