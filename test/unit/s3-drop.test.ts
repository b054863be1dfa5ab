import { toS3Uri } from '../../lib/domain/s3-location';
import { idempotentJobId } from '../../lib/use-cases/create-job';
import { defaultJobOptions } from '../../lib/domain/job-options';
import { decodeS3EventKey, dropTargetOf, startDroppedJob } from '../../lib/use-cases/s3-drop';
import type { DropDeps, DroppedObject } from '../../lib/use-cases/s3-drop';
import { testResources } from '../fixtures/env';
import { shippedModelRegistry } from '../fixtures/models';
import { RegistryModelCatalog } from '../../lib/use-cases/model-catalog';
import {
  InMemoryJobStore,
  InMemoryObjectStore,
  RecordingEventPublisher,
  RecordingJobQueue,
} from '../fixtures/in-memory';

const inputs = testResources.inputsBucket;
const outputs = testResources.outputsBucket;

describe('decodeS3EventKey', () => {
  it('reads + as a space, as S3 writes spaces in notifications', () => {
    expect(decodeS3EventKey('drop/churn-risk/red+flower.csv')).toBe('drop/churn-risk/red flower.csv');
  });

  it('decodes %XX escapes, a literal + and UTF-8 included', () => {
    expect(decodeS3EventKey('drop/churn-risk/a%2Bb%3Dc%20d.csv')).toBe('drop/churn-risk/a+b=c d.csv');
    expect(decodeS3EventKey('drop/churn-risk/%C3%A9t%C3%A9+2025.csv')).toBe('drop/churn-risk/été 2025.csv');
  });

  it('leaves a plain key as it is', () => {
    expect(decodeS3EventKey('drop/churn-risk/customers.csv')).toBe('drop/churn-risk/customers.csv');
  });
});

describe('dropTargetOf', () => {
  it.each([
    ['drop/churn-risk/customers.csv', 'churn-risk'],
    ['drop/churn-risk/2025/01/customers.jsonl', 'churn-risk'],
    ['drop/fraud/x.csv', 'fraud'],
  ])('reads the model from the folder of %s', (key, model) => {
    expect(dropTargetOf(key)).toEqual({ model });
  });

  it.each([
    ['a file outside drop/', 'inputs/churn-risk/customers.csv'],
    ['a file directly in drop/', 'drop/customers.csv'],
    ['a folder marker', 'drop/churn-risk/2025/'],
    ['the model folder itself', 'drop/churn-risk/'],
    ['a sidecar options file', 'drop/churn-risk/customers.csv.options.json'],
  ])('starts nothing for %s', (_what, key) => {
    expect(dropTargetOf(key)).toBeUndefined();
  });
});

describe('startDroppedJob', () => {
  let store: InMemoryJobStore;
  let queue: RecordingJobQueue;
  let objects: InMemoryObjectStore;
  let events: RecordingEventPublisher;
  let registry = shippedModelRegistry();
  const setDropOptions = (dropOptions: Record<string, unknown>) => {
    const key = 'longtail/churn-risk#1';
    registry.versions.set(key, {
      ...registry.versions.get(key)!,
      manifest: { ...registry.versions.get(key)!.manifest!, dropOptions },
    });
  };

  const deps = (): DropDeps => ({
    store,
    queue,
    objects,
    events,
    models: new RegistryModelCatalog(registry),
    ownerId: 'drop-owner',
    inputsBucket: inputs,
    outputsBucket: outputs,
    now: () => new Date('2025-01-01T00:00:00.000Z'),
  });
  const dropped = (key: string, overrides: Partial<DroppedObject> = {}): DroppedObject => ({
    bucket: inputs,
    key,
    sequencer: '0055AED6DCD90281E5',
    ...overrides,
  });
  const putSidecar = (key: string, body: unknown) =>
    objects.put(
      { bucket: inputs, key: `${key}.options.json` },
      typeof body === 'string' ? body : JSON.stringify(body),
      'application/json',
    );

  beforeEach(() => {
    store = new InMemoryJobStore();
    queue = new RecordingJobQueue();
    objects = new InMemoryObjectStore();
    events = new RecordingEventPublisher();
  });

  afterEach(() => {
    registry = shippedModelRegistry();
  });

  it('starts a job for the dropped file, owned by the drop owner, with its outputs named after it', async () => {
    const key = 'drop/churn-risk/customers.csv';

    const created = await startDroppedJob(dropped(key), deps());

    expect(created?.replayed).toBe(false);
    const job = created!.job;
    expect(job).toMatchObject({
      ownerId: 'drop-owner',
      status: 'pending',
      model: 'churn-risk',
      source: 's3-drop',
      input: { type: 's3', s3Uri: toS3Uri({ bucket: inputs, key }), s3DataType: 'S3Object' },
      inputUri: toS3Uri({ bucket: inputs, key }),
      outputUri: `s3://${outputs}/outputs/${job.jobId}/customers.csv.out`,
      failureUri: `s3://${outputs}/outputs/${job.jobId}/customers.csv.out.failed`,
      options: defaultJobOptions(),
    });
    expect(store.jobs.get(job.jobId)).toEqual(job);
    expect(queue.messages).toEqual([{ jobId: job.jobId }]);
    expect(events.events).toEqual([]);
  });

  it('makes one job of the same write delivered twice', async () => {
    const key = 'drop/churn-risk/customers.csv';

    const first = await startDroppedJob(dropped(key), deps());
    const again = await startDroppedJob(dropped(key), deps());

    expect(again).toEqual({ job: first!.job, replayed: true });
    expect(store.jobs.size).toBe(1);
  });

  it('makes a new job when the same key is written again (a new sequencer)', async () => {
    const key = 'drop/churn-risk/customers.csv';

    const first = await startDroppedJob(dropped(key, { sequencer: '0055AED6DCD90281E5' }), deps());
    const second = await startDroppedJob(dropped(key, { sequencer: '0055AED6DCD90281F0' }), deps());

    expect(second?.replayed).toBe(false);
    expect(second?.job.jobId).not.toBe(first?.job.jobId);
    expect(store.jobs.size).toBe(2);
  });

  it('tells writes apart by version id when the bucket keeps versions', async () => {
    const key = 'drop/churn-risk/customers.csv';

    const first = await startDroppedJob(dropped(key, { versionId: 'v1', sequencer: 'A1' }), deps());
    const redelivered = await startDroppedJob(dropped(key, { versionId: 'v1', sequencer: 'A2' }), deps());
    const rewritten = await startDroppedJob(dropped(key, { versionId: 'v2', sequencer: 'A3' }), deps());

    expect(redelivered?.job.jobId).toBe(first?.job.jobId);
    expect(rewritten?.job.jobId).not.toBe(first?.job.jobId);
  });

  it('ignores a sidecar options file, a folder marker and a key outside drop/', async () => {
    for (const key of ['drop/churn-risk/a.csv.options.json', 'drop/churn-risk/2025/', 'other/a.csv']) {
      await expect(startDroppedJob(dropped(key), deps())).resolves.toBeUndefined();
    }

    expect(store.jobs.size).toBe(0);
    expect(events.events).toEqual([]);
  });

  it("runs the job with the model's drop options", async () => {
    setDropOptions({ csvHeader: 'absent', maxBatchSize: 16 });

    const created = await startDroppedJob(dropped('drop/churn-risk/customers.csv'), deps());

    expect(created?.job.options).toEqual({ ...defaultJobOptions(), csvHeader: 'absent', maxBatchSize: 16 });
  });

  it("lays the sidecar's options over the model's drop options, keeping those the sidecar does not name", async () => {
    setDropOptions({ csvHeader: 'absent', maxBatchSize: 16 });
    const key = 'drop/churn-risk/customers.csv';
    putSidecar(key, { options: { maxBatchSize: 8, joinSource: 'Input' } });

    const created = await startDroppedJob(dropped(key), deps());

    expect(created?.job.options).toEqual({
      ...defaultJobOptions(),
      csvHeader: 'absent',
      maxBatchSize: 8,
      joinSource: 'Input',
    });
  });

  it("takes the sidecar's webhook", async () => {
    const key = 'drop/churn-risk/customers.csv';
    putSidecar(key, { webhookUrl: 'https://hooks.example.com/drops' });

    const created = await startDroppedJob(dropped(key), deps());

    expect(created?.job.webhookUrl).toBe('https://hooks.example.com/drops');
  });

  it.each([
    ['a sidecar that is not JSON', '{"options": {', 'INVALID_SIDECAR'],
    ['a sidecar with an unknown option', { options: { parallelism: 4 } }, 'INVALID_SIDECAR'],
    ['a sidecar with an unknown field', { priority: 'high' }, 'INVALID_SIDECAR'],
    ['a sidecar with a filter that does not parse', { options: { inputFilter: '$[' } }, 'INVALID_FILTER'],
  ])('records a failed job, with the reason, for %s, and announces it', async (_what, sidecar, code) => {
    const key = 'drop/churn-risk/customers.csv';
    putSidecar(key, sidecar);

    const created = await startDroppedJob(dropped(key), deps());

    expect(created).toBeUndefined();
    const [job] = [...store.jobs.values()];
    expect(job).toMatchObject({
      ownerId: 'drop-owner',
      status: 'failed',
      model: 'churn-risk',
      source: 's3-drop',
      error: { code, message: expect.any(String) },
      completedAt: '2025-01-01T00:00:00.000Z',
    });
    expect(queue.messages).toEqual([]);
    expect(events.events).toEqual([
      expect.objectContaining({ type: 'job.failed', jobId: job?.jobId, status: 'failed', error: job?.error }),
    ]);
  });

  it('records a failed UNKNOWN_MODEL job for a file dropped in the folder of a model there is not', async () => {
    const object = dropped('drop/fraud/transactions.csv');

    await startDroppedJob(object, deps());

    const jobId = idempotentJobId(
      'drop-owner',
      `s3-drop:${inputs}/drop/fraud/transactions.csv@${object.sequencer}`,
    );
    expect(store.jobs.get(jobId)).toMatchObject({
      status: 'failed',
      model: 'fraud',
      modelVersion: 'unknown',
      inputUri: `s3://${inputs}/drop/fraud/transactions.csv`,
      outputUri: `s3://${outputs}/outputs/${jobId}/transactions.csv.out`,
      error: { code: 'UNKNOWN_MODEL' },
    });
    expect(events.events).toEqual([expect.objectContaining({ type: 'job.failed', jobId, model: 'fraud' })]);
  });

  it('records and announces a rejected drop once, however often its event comes', async () => {
    const object = dropped('drop/fraud/transactions.csv');

    await startDroppedJob(object, deps());
    await startDroppedJob(object, deps());

    expect(store.jobs.size).toBe(1);
    expect(events.events).toHaveLength(1);
  });

  it('lets a storage failure through, so that Lambda retries the event', async () => {
    store.create = async () => Promise.reject(new Error('ProvisionedThroughputExceededException'));

    await expect(startDroppedJob(dropped('drop/churn-risk/customers.csv'), deps())).rejects.toThrow(
      'ProvisionedThroughputExceededException',
    );
    expect(events.events).toEqual([]);
  });
});
