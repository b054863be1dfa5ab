import type { Job } from '../../lib/domain/job';
import type { JobOptions } from '../../lib/domain/job-options';
import type { ObjectListingLine } from '../../lib/domain/job-plan';
import { LongtailError } from '../../lib/errors';
import { buildJobPlan } from '../../lib/use-cases/steps/job-planner';
import { testResources } from '../fixtures/env';
import { InMemoryObjectStore } from '../fixtures/in-memory';
import { aJob } from '../fixtures/jobs';

const inputs = testResources.inputsBucket;
const outputs = testResources.outputsBucket;
const imageModel = { name: 'text-orientation', imageField: 'image' };
const recordModel = { name: 'churn-risk', fields: [{ name: 'tenure' }] };
const deps = (objects: InMemoryObjectStore) => ({ objects, inputsBucket: inputs, outputsBucket: outputs });

const s3Job = (
  s3Uri: string,
  s3DataType: 'S3Object' | 'S3Prefix' | 'ManifestFile',
  options: Partial<JobOptions> = {},
): Job => {
  const base = aJob({ jobId: 'job-1', status: 'running' });
  const single = s3DataType === 'S3Object';
  const folder = `s3://${outputs}/outputs/job-1/`;
  return {
    ...base,
    input: { type: 's3', s3Uri, s3DataType },
    inputUri: s3Uri,
    outputUri: single ? `${folder}photo.png.out` : folder,
    failureUri: single ? `${folder}photo.png.out.failed` : folder,
    options: { ...base.options, ...options },
  };
};

const listingOf = (objects: InMemoryObjectStore) =>
  objects
    .text({ bucket: outputs, key: 'work/job-1/objects.jsonl' })!
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as ObjectListingLine);

const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LongtailError) return error.code;
    throw error;
  }
  return 'no error';
};

describe('planning a job whose objects are records', () => {
  it('lists a folder of images into the listing file and cuts it into exact line ranges by count', async () => {
    const objects = new InMemoryObjectStore();
    const keys = Array.from({ length: 10 }, (_, i) => `photos/p-${String(i).padStart(2, '0')}.jpg`);
    for (const [i, key] of keys.entries()) objects.put({ bucket: inputs, key }, Buffer.alloc(100 + i));
    objects.put({ bucket: inputs, key: 'photos/folder/' }, '');

    const plan = await buildJobPlan(
      s3Job(`s3://${inputs}/photos/`, 'S3Prefix', { maxObjectsPerShard: 4 }),
      imageModel,
      deps(objects),
    );

    expect(listingOf(objects).map((line) => line.key)).toEqual(keys);
    expect(listingOf(objects)[0]).toEqual({
      key: keys[0],
      size: 100,
      etag: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(plan.totalRecords).toBe(10);
    expect(plan.totalBytes).toBe(10 * 100 + 45);
    expect(plan.files).toEqual([
      expect.objectContaining({
        inputUri: `s3://${outputs}/work/job-1/objects.jsonl`,
        outputUri: `s3://${outputs}/outputs/job-1/objects.out`,
        failureUri: `s3://${outputs}/outputs/job-1/objects.out.failed`,
        records: 10,
        shardCount: 3,
        objects: { bucket: inputs, imageField: 'image', relativeTo: 'photos/', outputs: 'joined' },
      }),
    ]);
    const listing = objects.text({ bucket: outputs, key: 'work/job-1/objects.jsonl' })!;
    const lineStarts = [0, ...[...listing.matchAll(/\n/g)].map((match) => match.index + 1)];
    expect(
      plan.shards.map((shard) => [shard.firstLine, shard.start, shard.end, shard.startsAtRecord]),
    ).toEqual([
      [1, lineStarts[0], lineStarts[3], true],
      [4, lineStarts[3], lineStarts[7], true],
      [8, lineStarts[7], lineStarts[10], true],
    ]);
  });

  it('reads one image object as a job of one record, its output the job’s own', async () => {
    const objects = new InMemoryObjectStore();
    objects.put({ bucket: inputs, key: 'in/photo.png' }, Buffer.alloc(10), 'image/png');

    const plan = await buildJobPlan(
      s3Job(`s3://${inputs}/in/photo.png`, 'S3Object'),
      imageModel,
      deps(objects),
    );

    expect(plan.files[0]).toMatchObject({
      outputUri: `s3://${outputs}/outputs/job-1/photo.png.out`,
      records: 1,
      shardCount: 1,
    });
  });

  it('reads a manifest of images without a request per object, keys in the manifest’s order', async () => {
    const objects = new InMemoryObjectStore();
    objects.put(
      { bucket: inputs, key: 'lists/m.json' },
      JSON.stringify([{ prefix: `s3://${inputs}/drop/` }, 'b.png', 'a.png', 'gone.png']),
    );

    const plan = await buildJobPlan(
      s3Job(`s3://${inputs}/lists/m.json`, 'ManifestFile'),
      imageModel,
      deps(objects),
    );

    expect(listingOf(objects)).toEqual([
      { key: 'drop/b.png' },
      { key: 'drop/a.png' },
      { key: 'drop/gone.png' },
    ]);
    expect(plan.files[0]?.objects?.relativeTo).toBe('drop/');
  });

  it('keeps reading a folder of record files, and images under an explicit image contentType', async () => {
    const objects = new InMemoryObjectStore();
    objects.put({ bucket: inputs, key: 'mixed/a.jsonl' }, '{"image":"iVBOR"}\n');
    objects.put({ bucket: inputs, key: 'mixed/b.png' }, Buffer.alloc(5));
    objects.put({ bucket: inputs, key: 'raw/scan-1' }, Buffer.alloc(5));

    const lines = await buildJobPlan(
      s3Job(`s3://${inputs}/mixed/`, 'S3Prefix'),
      imageModel,
      deps(objects),
    ).catch((error: Error) => error);
    const typed = await buildJobPlan(
      s3Job(`s3://${inputs}/raw/`, 'S3Prefix', { contentType: 'image/png' }),
      imageModel,
      deps(objects),
    );

    // The .jsonl makes it a folder of record files: the .png is then refused as one.
    expect(lines).toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
    expect(typed.files[0]?.objects).toBeDefined();
    expect(typed.totalRecords).toBe(1);
  });

  it('refuses what cannot run: no images, a model that reads none, options that select from records', async () => {
    const objects = new InMemoryObjectStore();
    objects.put({ bucket: inputs, key: 'notes/readme.txt' }, 'text');
    objects.put({ bucket: inputs, key: 'pics/a.png' }, Buffer.alloc(5));

    expect(
      await codeOf(buildJobPlan(s3Job(`s3://${inputs}/notes/`, 'S3Prefix'), imageModel, deps(objects))),
    ).toBe('EMPTY_INPUT');
    expect(
      await codeOf(buildJobPlan(s3Job(`s3://${inputs}/pics/`, 'S3Prefix'), recordModel, deps(objects))),
    ).toBe('UNSUPPORTED_FORMAT');
    expect(
      await codeOf(
        buildJobPlan(
          s3Job(`s3://${inputs}/pics/`, 'S3Prefix', { inputFilter: '$.x' }),
          imageModel,
          deps(objects),
        ),
      ),
    ).toBe('INVALID_OPTIONS');
  });
});
