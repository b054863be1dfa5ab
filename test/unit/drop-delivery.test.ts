import type { S3Event, SQSEvent, SQSRecord } from 'aws-lambda';
import { dropWritesOf, startDroppedJobs } from '../../lib/use-cases/drop-delivery';
import { startDroppedBatch } from '../../lib/use-cases/s3-drop-batch';
import type { DropDeps } from '../../lib/use-cases/s3-drop';
import { dropManifestLocation } from '../../lib/domain/locations';
import { buildJobPlan } from '../../lib/use-cases/steps/job-planner';
import { RegistryModelCatalog } from '../../lib/use-cases/model-catalog';
import type { Job } from '../../lib/domain/job';
import { testResources } from '../fixtures/env';
import { shippedModelRegistry } from '../fixtures/models';
import { objectCreatedEvent } from '../fixtures/s3-events';
import { sqsRecord } from '../fixtures/sqs-events';
import type { CreatedObject } from '../fixtures/s3-events';
import {
  InMemoryJobStore,
  InMemoryObjectStore,
  RecordingEventPublisher,
  RecordingJobQueue,
} from '../fixtures/in-memory';

const inputs = testResources.inputsBucket;
const outputs = testResources.outputsBucket;

/** An SQS record whose body is the S3 event (or any text), as S3 → SQS delivers it. */
const queued = (messageId: string, body: unknown): SQSRecord =>
  sqsRecord(messageId, typeof body === 'string' ? body : JSON.stringify(body));
const sqsEventOf = (...objects: (CreatedObject & { messageId: string })[]): SQSEvent => ({
  Records: objects.map(({ messageId, ...object }) => queued(messageId, objectCreatedEvent(object))),
});
const pngs = (count: number, folder = 'drop/text-orientation') =>
  Array.from({ length: count }, (_, i) => ({
    messageId: `m-${folder}-${i}`,
    encodedKey: `${folder}/scan+${String(i).padStart(3, '0')}.png`,
    sequencer: `00${i.toString(16).padStart(16, '0')}`,
  }));

describe('dropWritesOf', () => {
  it('reads the S3 events in the queue messages, decoding keys and keeping which message said what', () => {
    const writes = dropWritesOf(
      sqsEventOf({ messageId: 'm-1', encodedKey: 'drop/text-orientation/red+flower.png', sequencer: '0A' }),
    );

    expect(writes).toEqual([
      {
        bucket: inputs,
        key: 'drop/text-orientation/red flower.png',
        sequencer: '0A',
        messageIds: ['m-1'],
      },
    ]);
  });

  it("skips S3's test event and bodies that are not S3 events", () => {
    const event: SQSEvent = {
      Records: [
        queued('m-test', { Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: inputs }),
        queued('m-text', 'not json'),
        queued('m-other', { hello: 'world' }),
      ],
    };

    expect(dropWritesOf(event)).toEqual([]);
  });

  it('still reads a plain S3 event, as S3 sends a function directly', () => {
    const event: S3Event = objectCreatedEvent({ encodedKey: 'drop/churn-risk/a.csv', sequencer: '01' });

    expect(dropWritesOf(event)).toEqual([
      { bucket: inputs, key: 'drop/churn-risk/a.csv', sequencer: '01', messageIds: [] },
    ]);
  });
});

describe('startDroppedJobs', () => {
  let store: InMemoryJobStore;
  let queue: RecordingJobQueue;
  let objects: InMemoryObjectStore;
  let events: RecordingEventPublisher;
  const deps = (): DropDeps => ({
    store,
    queue,
    objects,
    events,
    models: new RegistryModelCatalog(shippedModelRegistry()),
    ownerId: 'drop-owner',
    inputsBucket: inputs,
    outputsBucket: outputs,
  });
  const jobs = () => [...store.jobs.values()];
  const manifestOf = (job: Job) =>
    JSON.parse(objects.text(dropManifestLocation(inputs, job.jobId)) ?? 'null');

  beforeEach(() => {
    store = new InMemoryJobStore();
    queue = new RecordingJobQueue();
    objects = new InMemoryObjectStore();
    events = new RecordingEventPublisher();
  });

  it('makes one ManifestFile job of 25 images of a model folder, listing each once', async () => {
    const result = await startDroppedJobs(dropWritesOf(sqsEventOf(...pngs(25))), deps(), {
      maxObjects: 1000,
    });

    expect(result).toEqual({ jobs: 1, failedMessageIds: [], errors: [] });
    const [job] = jobs();
    expect(job).toMatchObject({
      ownerId: 'drop-owner',
      source: 's3-drop',
      status: 'pending',
      model: 'text-orientation',
      input: { type: 's3', s3DataType: 'ManifestFile' },
      inputUri: `s3://${inputs}/drop-manifests/${job!.jobId}.manifest.json`,
      outputUri: `s3://${outputs}/outputs/${job!.jobId}/`,
      // The model's dropOptions but those shaped for files of records (its join and outputFilter).
      options: expect.objectContaining({ maxBatchSize: 32, joinSource: 'None' }),
    });
    expect(manifestOf(job!)).toEqual([
      { prefix: `s3://${inputs}/drop/text-orientation/` },
      ...Array.from({ length: 25 }, (_, i) => `scan ${String(i).padStart(3, '0')}.png`),
    ]);
    expect(queue.messages).toEqual([{ jobId: job!.jobId }]);
  });

  it('gives a CSV or JSON Lines file its own job beside the batch, as before', async () => {
    const event = sqsEventOf(...pngs(3), {
      messageId: 'm-csv',
      encodedKey: 'drop/churn-risk/customers.csv',
      sequencer: '0F',
    });

    await startDroppedJobs(dropWritesOf(event), deps(), { maxObjects: 1000 });

    expect(
      jobs()
        .map((job) => [job.input.type === 's3' && job.input.s3DataType, job.model])
        .sort(),
    ).toEqual([
      ['ManifestFile', 'text-orientation'],
      ['S3Object', 'churn-risk'],
    ]);
  });

  it('splits a batch above the cap into several jobs, each image in exactly one', async () => {
    await startDroppedJobs(dropWritesOf(sqsEventOf(...pngs(25))), deps(), { maxObjects: 10 });

    const listed = jobs().map((job) => (manifestOf(job) as string[]).slice(1));
    expect(listed.map((keys) => keys.length).sort()).toEqual([10, 10, 5]);
    expect(new Set(listed.flat()).size).toBe(25);
  });

  it('makes no second job or record for a redelivered batch, or for duplicate messages of the same writes', async () => {
    const event = sqsEventOf(...pngs(25));
    await startDroppedJobs(dropWritesOf(event), deps(), { maxObjects: 1000 });
    const [first] = jobs();

    const duplicated: SQSEvent = {
      Records: [...event.Records, ...event.Records.map((r) => ({ ...r, messageId: `${r.messageId}-again` }))],
    };
    const again = await startDroppedJobs(dropWritesOf(duplicated), deps(), { maxObjects: 1000 });

    expect(again.errors).toEqual([]);
    expect(jobs()).toEqual([first]);
    expect((manifestOf(first!) as string[]).slice(1)).toHaveLength(25);
  });

  it('makes a new job for a new upload of the same keys', async () => {
    await startDroppedJobs(dropWritesOf(sqsEventOf(...pngs(2))), deps(), { maxObjects: 1000 });
    const rewritten = pngs(2).map((p) => ({ ...p, sequencer: `${p.sequencer}FF` }));

    await startDroppedJobs(dropWritesOf(sqsEventOf(...rewritten)), deps(), { maxObjects: 1000 });

    expect(jobs()).toHaveLength(2);
  });

  it('records a batch for an unknown model as a failed job, and reports no message as failed', async () => {
    const result = await startDroppedJobs(
      dropWritesOf(sqsEventOf(...pngs(2, 'drop/no-such-model'))),
      deps(),
      { maxObjects: 1000 },
    );

    expect(result.failedMessageIds).toEqual([]);
    expect(jobs()).toEqual([
      expect.objectContaining({
        status: 'failed',
        model: 'no-such-model',
        input: expect.objectContaining({ s3DataType: 'ManifestFile' }),
        error: expect.objectContaining({ code: 'UNKNOWN_MODEL' }),
      }),
    ]);
    expect(events.events.map((e) => e.type)).toEqual(['job.failed']);
    expect(queue.messages).toEqual([]);
  });

  it('reports the messages of the unit that failed, and only those, and a retry makes the job once', async () => {
    const event = sqsEventOf(...pngs(3), {
      messageId: 'm-csv',
      encodedKey: 'drop/churn-risk/customers.csv',
      sequencer: '0F',
    });
    const create = store.create.bind(store);
    let failOnce = true;
    store.create = async (job) => {
      if (job.input.type === 's3' && job.input.s3DataType === 'ManifestFile' && failOnce) {
        failOnce = false;
        throw new Error('ProvisionedThroughputExceededException');
      }
      return create(job);
    };

    const failed = await startDroppedJobs(dropWritesOf(event), deps(), { maxObjects: 1000 });

    expect(failed.failedMessageIds.sort()).toEqual(pngs(3).map((p) => p.messageId));
    expect(failed.errors.map((e) => e.message)).toEqual(['ProvisionedThroughputExceededException']);
    expect(jobs()).toHaveLength(1);

    const retried: SQSEvent = {
      Records: event.Records.filter((r) => failed.failedMessageIds.includes(r.messageId)),
    };
    await startDroppedJobs(dropWritesOf(retried), deps(), { maxObjects: 1000 });
    await startDroppedJobs(dropWritesOf(retried), deps(), { maxObjects: 1000 });
    expect(jobs()).toHaveLength(2);
  });

  it('counts a batch whose job was stored but not enqueued as started, so that its messages do not come back', async () => {
    queue.enqueue = async () => {
      throw new Error('SQS unavailable');
    };

    const result = await startDroppedJobs(dropWritesOf(sqsEventOf(...pngs(3))), deps(), { maxObjects: 1000 });

    expect(result).toEqual({ jobs: 1, failedMessageIds: [], errors: [] });
    expect(jobs()).toEqual([expect.objectContaining({ status: 'pending' })]);
  });

  it('starts no more jobs once out of time, reporting the messages of those it did not start', async () => {
    const event = sqsEventOf(...pngs(2), {
      messageId: 'm-csv',
      encodedKey: 'drop/churn-risk/customers.csv',
      sequencer: '0F',
    });
    let started = 0;
    const result = await startDroppedJobs(dropWritesOf(event), deps(), {
      maxObjects: 1000,
      concurrency: 1,
      // Time for the first unit (the batch) only.
      outOfTime: () => started++ > 0,
    });

    expect(result.jobs).toBe(1);
    expect(result.failedMessageIds).toEqual(['m-csv']);
    expect(result.errors.map((e) => e.message)).toEqual(['Not started before the function ran out of time']);
    expect(jobs().map((job) => job.model)).toEqual(['text-orientation']);
  });

  it('starts nothing for sidecars and folder markers', async () => {
    const result = await startDroppedJobs(
      dropWritesOf(
        sqsEventOf(
          { messageId: 'm-1', encodedKey: 'drop/text-orientation/a.png.options.json' },
          { messageId: 'm-2', encodedKey: 'drop/text-orientation/folder/' },
        ),
      ),
      deps(),
      { maxObjects: 1000 },
    );

    expect(result).toEqual({ jobs: 0, failedMessageIds: [], errors: [] });
    expect(jobs()).toEqual([]);
  });
});

describe("a drop batch's manifest", () => {
  it('is under a reserved prefix: only the job it was written for may be planned over it', async () => {
    const store = new InMemoryJobStore();
    const objects = new InMemoryObjectStore();
    const deps: DropDeps = {
      store,
      queue: new RecordingJobQueue(),
      objects,
      events: new RecordingEventPublisher(),
      models: new RegistryModelCatalog(shippedModelRegistry()),
      ownerId: 'drop-owner',
      inputsBucket: inputs,
      outputsBucket: outputs,
    };
    const created = await startDroppedBatch(
      {
        bucket: inputs,
        model: 'churn-risk',
        writes: [{ bucket: inputs, key: 'drop/churn-risk/a.png', sequencer: '01' }],
      },
      deps,
    );
    const job = created!.job;
    const planning = { objects, inputsBucket: inputs, outputsBucket: outputs };

    // Another job pointed at it is refused before the manifest is read.
    await expect(
      buildJobPlan({ ...job, jobId: 'someone-else' }, { name: 'churn-risk' }, planning),
    ).rejects.toMatchObject({ code: 'INPUT_OUTSIDE_BUCKET' });
    // Its own job reads it: its images are the job's records (churn-risk reads none, and says so).
    await expect(buildJobPlan(job, { name: 'churn-risk' }, planning)).rejects.toMatchObject({
      code: 'UNSUPPORTED_FORMAT',
      message: expect.stringContaining('does not read images'),
    });
    const plan = await buildJobPlan(job, { name: 'text-orientation', imageField: 'image' }, planning);
    expect(plan.files[0]?.objects).toMatchObject({ relativeTo: 'drop/churn-risk/' });
    expect(plan.totalRecords).toBe(1);
  });
});
