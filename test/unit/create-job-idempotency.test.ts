import { locationOf } from '../../lib/domain/s3-location';
import { Conflict } from '../../lib/errors';
import { createJob, idempotentJobId } from '../../lib/use-cases/create-job';
import type { CreateJobDeps, CreateJobRequest } from '../../lib/use-cases/create-job';
import type { Job } from '../../lib/domain/job';
import { testResources } from '../fixtures/env';
import { InMemoryJobStore, InMemoryObjectStore, RecordingJobQueue } from '../fixtures/in-memory';
import { churnRecords } from '../fixtures/jobs';
import { shippedModelCatalog } from '../fixtures/models';

const request: CreateJobRequest = { model: 'churn-risk', input: { records: churnRecords } };
const otherRequest: CreateJobRequest = { model: 'churn-risk', input: { records: [churnRecords[1]] } };
const context = { ownerId: 'alice', source: 'api' as const, idempotencyKey: 'order-42' };

/** A job store that does not see the job another request is about to write, as in a race. */
class RacingJobStore extends InMemoryJobStore {
  constructor(private readonly winner: () => Job) {
    super();
  }

  override async get(jobId: string) {
    if (this.jobs.size === 0) return undefined;
    return super.get(jobId);
  }

  override async create(job: Job) {
    // The other request's conditional put lands first.
    if (this.jobs.size === 0) this.jobs.set(job.jobId, this.winner());
    return super.create(job);
  }
}

describe('createJob with an idempotency key', () => {
  let store: InMemoryJobStore;
  let queue: RecordingJobQueue;
  let objects: InMemoryObjectStore;
  const depsOf = (overrides: Partial<CreateJobDeps> = {}): CreateJobDeps => ({
    store,
    queue,
    objects,
    models: shippedModelCatalog(),
    inputsBucket: testResources.inputsBucket,
    outputsBucket: testResources.outputsBucket,
    now: () => new Date('2025-01-01T00:00:00.000Z'),
    ...overrides,
  });

  beforeEach(() => {
    store = new InMemoryJobStore();
    queue = new RecordingJobQueue();
    objects = new InMemoryObjectStore();
  });

  it('makes the job whose id the owner and key give', async () => {
    const { job, replayed } = await createJob(context, request, depsOf());

    expect(replayed).toBe(false);
    expect(job.jobId).toBe(idempotentJobId('alice', 'order-42'));
    expect(store.jobs.get(job.jobId)).toEqual(job);
    expect(queue.messages).toEqual([{ jobId: job.jobId }]);
  });

  it('derives a different id for another key or another owner, and the same for the same pair', () => {
    const id = idempotentJobId('alice', 'order-42');

    expect(idempotentJobId('alice', 'order-42')).toBe(id);
    expect(idempotentJobId('alice', 'order-43')).not.toBe(id);
    expect(idempotentJobId('bob', 'order-42')).not.toBe(id);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('answers the same key and request with the same job, as a replay, without a second write', async () => {
    const first = await createJob(context, request, depsOf());
    const inlineObjects = objects.keys(testResources.inputsBucket);

    const again = await createJob(context, request, depsOf());

    expect(again).toEqual({ job: first.job, replayed: true });
    expect(store.creates).toBe(1);
    expect(objects.keys(testResources.inputsBucket)).toEqual(inlineObjects);
  });

  it('sees the same request in another key order as the same request', async () => {
    const first = await createJob(
      context,
      { model: 'churn-risk', input: { records: churnRecords } },
      depsOf(),
    );

    const again = await createJob(
      context,
      { input: { records: churnRecords }, model: 'churn-risk' },
      depsOf(),
    );

    expect(again.replayed).toBe(true);
    expect(again.job.jobId).toBe(first.job.jobId);
  });

  it('refuses the same key with another request: 409 IDEMPOTENCY_KEY_REUSED naming the job', async () => {
    const first = await createJob(context, request, depsOf());

    const reusing = createJob(context, otherRequest, depsOf());

    await expect(reusing).rejects.toBeInstanceOf(Conflict);
    await expect(reusing).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
      details: { jobId: first.job.jobId },
    });
    expect(store.creates).toBe(1);
    expect(objects.keys(testResources.inputsBucket)).toHaveLength(1);
  });

  it('queues a replayed job again while it is pending, and not once it runs', async () => {
    const first = await createJob(context, request, depsOf());

    await createJob(context, request, depsOf());
    await store.transition(first.job.jobId, 'running');
    await createJob(context, request, depsOf());

    expect(queue.messages).toEqual([{ jobId: first.job.jobId }, { jobId: first.job.jobId }]);
  });

  it('answers as a replay of the winner when another request with the key wins the conditional put', async () => {
    const winner = (await createJob(context, request, depsOf({ store: new InMemoryJobStore() }))).job;
    queue = new RecordingJobQueue();
    store = new RacingJobStore(() => winner);

    const loser = await createJob(context, request, depsOf());

    expect(loser).toEqual({ job: winner, replayed: true });
    expect(store.creates).toBe(1);
    // The winner may not have queued it yet; queueing twice is harmless, dispatch is idempotent.
    expect(queue.messages).toEqual([{ jobId: winner.jobId }]);
  });

  it('refuses the loser of a race that sent another request with the key', async () => {
    const winner = (await createJob(context, request, depsOf({ store: new InMemoryJobStore() }))).job;
    store = new RacingJobStore(() => winner);

    await expect(createJob(context, otherRequest, depsOf())).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    expect(store.jobs.get(winner.jobId)).toEqual(winner);
  });

  it('keeps the inline records of a conflicting request apart from the winner’s', async () => {
    const winner = (await createJob(context, request, depsOf({ store: new InMemoryJobStore() }))).job;
    store = new RacingJobStore(() => winner);

    await createJob(context, otherRequest, depsOf()).catch(() => undefined);

    const inline = objects.keys(testResources.inputsBucket);
    expect(inline).toHaveLength(2);
    expect(objects.text(locationOf(winner.inputUri))).toBe(
      `${churnRecords.map((r) => JSON.stringify(r)).join('\n')}\n`,
    );
  });

  it('makes exactly one job of two identical requests sent at once', async () => {
    const [a, b] = await Promise.all([
      createJob(context, request, depsOf()),
      createJob(context, request, depsOf()),
    ]);

    expect(a.job.jobId).toBe(b.job.jobId);
    expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
    expect(store.jobs.size).toBe(1);
  });

  it('lets a storage failure other than the conflict through', async () => {
    const failing = new InMemoryJobStore();
    failing.create = async () => Promise.reject(new Error('throttled'));

    await expect(createJob(context, request, depsOf({ store: failing }))).rejects.toThrow('throttled');
    expect(queue.messages).toEqual([]);
  });
});

describe('createJob without an idempotency key', () => {
  it('gives every request a new job, and never looks for an earlier one', async () => {
    const store = new InMemoryJobStore();
    const get = jest.spyOn(store, 'get');
    let next = 0;
    const deps: CreateJobDeps = {
      store,
      queue: new RecordingJobQueue(),
      objects: new InMemoryObjectStore(),
      models: shippedModelCatalog(),
      inputsBucket: testResources.inputsBucket,
      outputsBucket: testResources.outputsBucket,
      newJobId: () => `job-${++next}`,
    };

    const first = await createJob({ ownerId: 'alice', source: 'api' }, request, deps);
    const second = await createJob({ ownerId: 'alice', source: 'api' }, request, deps);

    expect([first.job.jobId, second.job.jobId]).toEqual(['job-1', 'job-2']);
    expect([first.replayed, second.replayed]).toEqual([false, false]);
    expect(get).not.toHaveBeenCalled();
  });

  it('answers a second job with the same id as a conflict, not a replay', async () => {
    const deps: CreateJobDeps = {
      store: new InMemoryJobStore(),
      queue: new RecordingJobQueue(),
      objects: new InMemoryObjectStore(),
      models: shippedModelCatalog(),
      inputsBucket: testResources.inputsBucket,
      outputsBucket: testResources.outputsBucket,
      newJobId: () => 'same-id',
    };
    await createJob({ ownerId: 'alice', source: 'api' }, request, deps);

    await expect(createJob({ ownerId: 'alice', source: 'api' }, request, deps)).rejects.toMatchObject({
      code: 'JOB_EXISTS',
    });
  });
});
