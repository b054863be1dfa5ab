import { toS3Uri } from '../../lib/domain/s3-location';
import type { Job } from '../../lib/domain/job';
import type { JobOptions } from '../../lib/domain/job-options';
import { buildJobPlan } from '../../lib/use-cases/steps/job-planner';
import { planLocationOf, shardOutputLocationOf } from '../../lib/domain/locations';
import type { JobPlan } from '../../lib/domain/job-plan';
import { findModel } from '../fixtures/shipped-manifests';
import { testResources } from '../fixtures/env';
import { InMemoryObjectStore } from '../fixtures/in-memory';
import { aJob, churnCsvRow, churnHeader, churnRecords } from '../fixtures/jobs';

const inputs = testResources.inputsBucket;
const outputs = testResources.outputsBucket;
const model = findModel('churn-risk')!;
const mib = 1024 * 1024;

/** `count` JSON Lines records that fit the model. */
const jsonl = (count: number) =>
  Array.from({ length: count }, (_, i) => JSON.stringify({ ...churnRecords[i % 2], id: i })).join('\n') +
  '\n';
/** `count` CSV rows in manifest order, after `header` when given. */
const csv = (count: number, header?: string[]) =>
  (header ? `${header.join(',')}\n` : '') +
  Array.from({ length: count }, (_, i) => churnCsvRow(churnRecords[i % 2]!)).join('\n') +
  '\n';

const s3Job = (
  s3Uri: string,
  s3DataType: 'S3Object' | 'S3Prefix' | 'ManifestFile' = 'S3Object',
  options: Partial<JobOptions> = {},
): Job => {
  const base = aJob({ jobId: 'job-1', status: 'running' });
  const folder = `s3://${outputs}/outputs/job-1/`;
  const name = s3Uri.split('/').pop();
  return {
    ...base,
    input: { type: 's3', s3Uri, s3DataType },
    inputUri: s3Uri,
    outputUri: s3DataType === 'S3Object' ? `${folder}${name}.out` : folder,
    failureUri: s3DataType === 'S3Object' ? `${folder}${name}.out.failed` : folder,
    options: { ...base.options, ...options },
  };
};

/** Checks the invariants every plan keeps, whatever its input. */
const expectConsistent = (plan: JobPlan, objects: InMemoryObjectStore) => {
  let index = 0;
  for (const [fileIndex, file] of plan.files.entries()) {
    const shards = plan.shards.slice(file.firstShard, file.firstShard + file.shardCount);
    expect(file.firstShard).toBe(index);
    index += file.shardCount;
    expect(shards.every((shard) => shard.file === fileIndex)).toBe(true);
    shards.forEach((shard, i) => {
      if (i > 0) expect(shard.start).toBe(shards[i - 1]!.end);
      expect(shard.startsAtRecord).toBe(i === 0);
      if (i > 0) expect(shard.firstLine).toBe(1);
      expect(shard.end).toBeGreaterThan(shard.start);
    });
    if (shards.length > 0)
      expect(shards.at(-1)!.end).toBe(objects.text(locationOfUri(file.inputUri))!.length);
  }
  expect(plan.shards.map((shard) => shard.index)).toEqual(plan.shards.map((_, i) => i));
  expect(plan.totalRecords).toBe(plan.files.reduce((sum, file) => sum + (file.records ?? 0), 0));
  expect(plan.totalBytes).toBe(plan.files.reduce((sum, file) => sum + file.bytes, 0));
};

const locationOfUri = (uri: string) => {
  const [, , bucket = '', ...key] = uri.split('/');
  return { bucket, key: key.join('/') };
};

describe('buildJobPlan', () => {
  let objects: InMemoryObjectStore;
  const plan = (job: Job) =>
    buildJobPlan(job, model, { objects, inputsBucket: inputs, outputsBucket: outputs });

  beforeEach(() => {
    objects = new InMemoryObjectStore();
  });

  describe('an S3Object input', () => {
    it('plans one shard of the whole file, written to the job’s output', async () => {
      const body = jsonl(3);
      objects.put({ bucket: inputs, key: 'data/customers.jsonl' }, body, 'application/x-ndjson');
      const job = s3Job(`s3://${inputs}/data/customers.jsonl`);

      const planned = await plan(job);

      expect(planned).toEqual({
        jobId: 'job-1',
        model: 'churn-risk',
        options: job.options,
        files: [
          {
            inputUri: `s3://${inputs}/data/customers.jsonl`,
            format: 'jsonl',
            outputFormat: 'jsonl',
            outputUri: job.outputUri,
            failureUri: job.failureUri,
            bytes: body.length,
            records: 3,
            firstShard: 0,
            shardCount: 1,
          },
        ],
        shards: [
          {
            index: 0,
            file: 0,
            start: 0,
            end: body.length,
            firstLine: 1,
            startsAtRecord: true,
            atObjectStart: true,
          },
        ],
        totalRecords: 3,
        totalBytes: body.length,
      });
    });

    it('plans the stored inline records of a job submitted with records', async () => {
      const job = aJob({ jobId: 'job-2', status: 'running' });
      objects.put(locationOfUri(job.inputUri), jsonl(3), 'application/x-ndjson');

      const planned = await plan(job);

      expect(planned.totalRecords).toBe(3);
      expect(planned.files[0]).toMatchObject({ format: 'jsonl', outputUri: job.outputUri });
    });

    it('takes the format from the content type before the extension, and the job’s contentType before both', async () => {
      objects.put({ bucket: inputs, key: 'a.txt' }, csv(2), 'text/csv; charset=utf-8');
      objects.put({ bucket: inputs, key: 'b.data' }, csv(2));

      const byContentType = await plan(s3Job(`s3://${inputs}/a.txt`));
      const byOption = await plan(s3Job(`s3://${inputs}/b.data`, 'S3Object', { contentType: 'text/csv' }));

      expect(byContentType.files[0]?.format).toBe('csv');
      expect(byOption.files[0]?.format).toBe('csv');
    });

    it('writes the output in the accept format when the job asks for one', async () => {
      objects.put({ bucket: inputs, key: 'a.csv' }, csv(2));

      const planned = await plan(
        s3Job(`s3://${inputs}/a.csv`, 'S3Object', { accept: 'application/jsonlines' }),
      );

      expect(planned.files[0]).toMatchObject({ format: 'csv', outputFormat: 'jsonl' });
    });

    it('fails with INPUT_NOT_FOUND when the object does not exist', async () => {
      await expect(plan(s3Job(`s3://${inputs}/missing.csv`))).rejects.toMatchObject({
        code: 'INPUT_NOT_FOUND',
        message: `The input s3://${inputs}/missing.csv does not exist.`,
      });
    });

    it.each([
      ['a gzip file', 'data/customers.csv.gz', undefined],
      ['gzip content', 'data/customers.csv', 'application/gzip'],
      ['a format it cannot tell', 'data/customers.parquet', 'application/octet-stream'],
    ])('fails with UNSUPPORTED_FORMAT for %s', async (_what, key, contentType) => {
      objects.put({ bucket: inputs, key }, 'whatever\n', contentType);

      await expect(plan(s3Job(`s3://${inputs}/${key}`))).rejects.toMatchObject({
        code: 'UNSUPPORTED_FORMAT',
      });
    });

    it.each([
      ['an empty file', ''],
      ['a file of blank lines', '\n  \n\r\n'],
    ])('fails with EMPTY_INPUT for %s', async (_what, body) => {
      objects.put({ bucket: inputs, key: 'empty.jsonl' }, body);

      await expect(plan(s3Job(`s3://${inputs}/empty.jsonl`))).rejects.toMatchObject({
        code: 'EMPTY_INPUT',
        message: `The input s3://${inputs}/empty.jsonl holds no records.`,
      });
    });
  });

  describe('CSV headers', () => {
    it('finds a header row that names every model field, and keeps it out of the shards', async () => {
      const header = ['id', ...churnHeader];
      const body = `${header.join(',')}\n1,${churnCsvRow(churnRecords[0]!)}\n2,${churnCsvRow(churnRecords[1]!)}\n`;
      objects.put({ bucket: inputs, key: 'with-header.csv' }, body);

      const planned = await plan(s3Job(`s3://${inputs}/with-header.csv`));

      expect(planned.files[0]?.header).toEqual(header);
      expect(planned.totalRecords).toBe(2);
      expect(planned.shards[0]).toMatchObject({
        start: header.join(',').length + 1,
        end: body.length,
        firstLine: 2,
        atObjectStart: false,
      });
    });

    it('reads a first row that does not name the fields as data', async () => {
      objects.put({ bucket: inputs, key: 'no-header.csv' }, csv(3));

      const planned = await plan(s3Job(`s3://${inputs}/no-header.csv`));

      expect(planned.files[0]).not.toHaveProperty('header');
      expect(planned.totalRecords).toBe(3);
      expect(planned.shards[0]).toMatchObject({ start: 0, firstLine: 1 });
    });

    it('trims the header cells and sees past a byte order mark', async () => {
      objects.put(
        { bucket: inputs, key: 'bom.csv' },
        `\uFEFF${churnHeader.map((h) => ` ${h} `).join(',')}\r\n${csv(1)}`,
      );

      const planned = await plan(s3Job(`s3://${inputs}/bom.csv`));

      expect(planned.files[0]?.header).toEqual(churnHeader);
      expect(planned.totalRecords).toBe(1);
    });

    it('takes the first row as the header when told one is present, whatever it names', async () => {
      objects.put({ bucket: inputs, key: 'named.csv' }, csv(2, ['a', 'b', 'c', 'd', 'e', 'f']));

      const planned = await plan(s3Job(`s3://${inputs}/named.csv`, 'S3Object', { csvHeader: 'present' }));

      expect(planned.files[0]?.header).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
      expect(planned.totalRecords).toBe(2);
    });

    it('counts a header-looking first row as a record when told there is none', async () => {
      objects.put({ bucket: inputs, key: 'absent.csv' }, csv(2, churnHeader));

      const planned = await plan(s3Job(`s3://${inputs}/absent.csv`, 'S3Object', { csvHeader: 'absent' }));

      expect(planned.files[0]).not.toHaveProperty('header');
      expect(planned.totalRecords).toBe(3);
    });

    it('fails with EMPTY_INPUT for a CSV file that holds only its header', async () => {
      objects.put({ bucket: inputs, key: 'header-only.csv' }, `${churnHeader.join(',')}\n`);

      await expect(plan(s3Job(`s3://${inputs}/header-only.csv`))).rejects.toMatchObject({
        code: 'EMPTY_INPUT',
      });
    });
  });

  describe('an S3Prefix input', () => {
    beforeEach(() => {
      objects.put({ bucket: inputs, key: 'batches/2025/b.jsonl' }, jsonl(2));
      objects.put({ bucket: inputs, key: 'batches/2025/a.csv' }, csv(3));
      objects.put({ bucket: inputs, key: 'batches/2025/01/c.jsonl' }, jsonl(1));
      objects.put({ bucket: inputs, key: 'batches/2025/02/c.jsonl' }, jsonl(4));
      objects.put({ bucket: inputs, key: 'batches/2025/empty.jsonl' }, '');
      objects.put({ bucket: inputs, key: 'batches/2025/folder/' }, '');
      objects.put({ bucket: inputs, key: 'batches/2024/old.jsonl' }, jsonl(9));
    });

    it('plans every non-empty object under the prefix, in key order, one after the other', async () => {
      const planned = await plan(s3Job(`s3://${inputs}/batches/2025/`, 'S3Prefix'));

      expect(planned.files.map((f) => [f.inputUri, f.format, f.records])).toEqual([
        [`s3://${inputs}/batches/2025/01/c.jsonl`, 'jsonl', 1],
        [`s3://${inputs}/batches/2025/02/c.jsonl`, 'jsonl', 4],
        [`s3://${inputs}/batches/2025/a.csv`, 'csv', 3],
        [`s3://${inputs}/batches/2025/b.jsonl`, 'jsonl', 2],
      ]);
      expect(planned.totalRecords).toBe(10);
      expectConsistent(planned, objects);
    });

    it('writes each output under the job’s folder at its path relative to the prefix', async () => {
      const planned = await plan(s3Job(`s3://${inputs}/batches/2025/`, 'S3Prefix'));

      expect(planned.files.map((f) => [f.outputUri, f.failureUri])).toEqual(
        ['01/c.jsonl', '02/c.jsonl', 'a.csv', 'b.jsonl'].map((name) => [
          `s3://${outputs}/outputs/job-1/${name}.out`,
          `s3://${outputs}/outputs/job-1/${name}.out.failed`,
        ]),
      );
    });

    it('keeps paths relative to the folder of a prefix that ends inside a name', async () => {
      const planned = await plan(s3Job(`s3://${inputs}/batches/2025/0`, 'S3Prefix'));

      expect(planned.files.map((f) => f.outputUri)).toEqual([
        `s3://${outputs}/outputs/job-1/01/c.jsonl.out`,
        `s3://${outputs}/outputs/job-1/02/c.jsonl.out`,
      ]);
    });

    it('fails with INPUT_NOT_FOUND when nothing is under the prefix', async () => {
      await expect(plan(s3Job(`s3://${inputs}/batches/1999/`, 'S3Prefix'))).rejects.toMatchObject({
        code: 'INPUT_NOT_FOUND',
      });
    });
  });

  describe('a ManifestFile input', () => {
    const manifestUri = `s3://${inputs}/manifests/january.json`;
    const putManifest = (manifest: unknown) =>
      objects.put(
        locationOfUri(manifestUri),
        typeof manifest === 'string' ? manifest : JSON.stringify(manifest),
      );

    beforeEach(() => {
      objects.put({ bucket: inputs, key: 'data/x/one.jsonl' }, jsonl(2));
      objects.put({ bucket: inputs, key: 'data/y/two.csv' }, csv(3));
    });

    it('plans the objects the manifest lists, in its order', async () => {
      putManifest([{ prefix: `s3://${inputs}/data/` }, 'y/two.csv', 'x/one.jsonl']);

      const planned = await plan(s3Job(manifestUri, 'ManifestFile'));

      expect(planned.files.map((f) => [f.inputUri, f.records])).toEqual([
        [`s3://${inputs}/data/y/two.csv`, 3],
        [`s3://${inputs}/data/x/one.jsonl`, 2],
      ]);
      expectConsistent(planned, objects);
    });

    it("writes each output under the job's folder at its key relative to the manifest's prefix, so that names cannot collide", async () => {
      objects.put({ bucket: inputs, key: 'data/y/one.jsonl' }, jsonl(1));
      putManifest([{ prefix: `s3://${inputs}/data/` }, 'x/one.jsonl', 'y/one.jsonl']);

      const planned = await plan(s3Job(manifestUri, 'ManifestFile'));

      expect(planned.files.map((f) => f.outputUri)).toEqual([
        `s3://${outputs}/outputs/job-1/x/one.jsonl.out`,
        `s3://${outputs}/outputs/job-1/y/one.jsonl.out`,
      ]);
    });

    it.each(['inline/', 'retries/'])(
      'fails with INPUT_OUTSIDE_BUCKET for a listed object under %s, where other jobs’ records are',
      async (reserved) => {
        objects.put({ bucket: inputs, key: `${reserved}other-job/tag/records.jsonl` }, jsonl(2));
        putManifest([{ prefix: `s3://${inputs}/${reserved}` }, 'other-job/tag/records.jsonl']);

        await expect(plan(s3Job(manifestUri, 'ManifestFile'))).rejects.toMatchObject({
          code: 'INPUT_OUTSIDE_BUCKET',
        });
      },
    );

    it('fails with INPUT_NOT_FOUND when the manifest does not exist', async () => {
      await expect(plan(s3Job(manifestUri, 'ManifestFile'))).rejects.toMatchObject({
        code: 'INPUT_NOT_FOUND',
      });
    });

    it('fails with INPUT_NOT_FOUND, naming it, when a listed object does not exist', async () => {
      putManifest([{ prefix: `s3://${inputs}/data/` }, 'x/one.jsonl', 'x/gone.jsonl']);

      await expect(plan(s3Job(manifestUri, 'ManifestFile'))).rejects.toMatchObject({
        code: 'INPUT_NOT_FOUND',
        message: expect.stringContaining(`s3://${inputs}/data/x/gone.jsonl`),
      });
    });

    it.each([
      ['not JSON', '[{"prefix": '],
      ['not a list', { prefix: `s3://${inputs}/data/` }],
      ['a list without a prefix first', ['x/one.jsonl']],
      ['a list with a key that is not a string', [{ prefix: `s3://${inputs}/data/` }, 42]],
    ])('fails with INVALID_MANIFEST for a manifest that is %s', async (_what, manifest) => {
      putManifest(manifest);

      await expect(plan(s3Job(manifestUri, 'ManifestFile'))).rejects.toMatchObject({
        code: 'INVALID_MANIFEST',
      });
    });

    it('fails with INPUT_OUTSIDE_BUCKET for a listed object in another bucket', async () => {
      putManifest([{ prefix: 's3://someone-else/data/' }, 'x/one.jsonl']);

      await expect(plan(s3Job(manifestUri, 'ManifestFile'))).rejects.toMatchObject({
        code: 'INPUT_OUTSIDE_BUCKET',
      });
    });
  });

  describe('sharding', () => {
    it('cuts a large file into nearly equal byte ranges of at most shardSizeMB, without aligning them', async () => {
      const body = jsonl(40_000);
      objects.put({ bucket: inputs, key: 'big.jsonl' }, body);

      const planned = await plan(s3Job(`s3://${inputs}/big.jsonl`, 'S3Object', { shardSizeMB: 1 }));

      const sizes = planned.shards.map((shard) => shard.end - shard.start);
      expect(planned.shards).toHaveLength(Math.ceil(body.length / mib));
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(mib);
      expect(planned.totalRecords).toBe(40_000);
      expect(planned.shards.slice(1).every((s) => !s.atObjectStart && !s.startsAtRecord)).toBe(true);
      expectConsistent(planned, objects);
    });

    it('numbers lines from 1 in the shards after a file’s first, which assembly renumbers', async () => {
      objects.put({ bucket: inputs, key: 'big.jsonl' }, jsonl(40_000));

      const planned = await plan(s3Job(`s3://${inputs}/big.jsonl`, 'S3Object', { shardSizeMB: 1 }));

      expect(planned.shards[0]).toMatchObject({ firstLine: 1, startsAtRecord: true });
      expect(planned.shards.slice(1).every((shard) => shard.firstLine === 1)).toBe(true);
    });

    it('keeps a tiny file one shard', async () => {
      objects.put({ bucket: inputs, key: 'tiny.jsonl' }, jsonl(1));

      const planned = await plan(s3Job(`s3://${inputs}/tiny.jsonl`));

      expect(planned.shards).toHaveLength(1);
      expect(planned.totalRecords).toBe(1);
    });

    it('plans no more shards than maxShards', async () => {
      objects.put({ bucket: inputs, key: 'big.jsonl' }, jsonl(40_000));

      const planned = await plan(
        s3Job(`s3://${inputs}/big.jsonl`, 'S3Object', { shardSizeMB: 1, maxShards: 2 }),
      );

      expect(planned.shards).toHaveLength(2);
      expectConsistent(planned, objects);
    });

    it('shares maxShards between the files of a job by their size', async () => {
      objects.put({ bucket: inputs, key: 'many/a.jsonl' }, jsonl(40_000));
      objects.put({ bucket: inputs, key: 'many/b.jsonl' }, jsonl(40_000));

      const planned = await plan(s3Job(`s3://${inputs}/many/`, 'S3Prefix', { shardSizeMB: 1, maxShards: 4 }));

      expect(planned.files.map((f) => f.shardCount)).toEqual([2, 2]);
      expectConsistent(planned, objects);
    });

    it('keeps the shards of all files within maxShards when small files sit beside a large one', async () => {
      objects.put({ bucket: inputs, key: 'mixed/a.jsonl' }, jsonl(40_000));
      objects.put({ bucket: inputs, key: 'mixed/b.jsonl' }, jsonl(1));
      objects.put({ bucket: inputs, key: 'mixed/c.jsonl' }, jsonl(1));

      const planned = await plan(
        s3Job(`s3://${inputs}/mixed/`, 'S3Prefix', { shardSizeMB: 1, maxShards: 3 }),
      );

      expect(planned.shards.length).toBeLessThanOrEqual(3);
      expect(planned.files.map((f) => f.shardCount)).toEqual([1, 1, 1]);
    });

    it('gives every non-empty file a shard, even with more files than maxShards', async () => {
      for (const name of ['a', 'b', 'c']) objects.put({ bucket: inputs, key: `few/${name}.jsonl` }, jsonl(2));

      const planned = await plan(s3Job(`s3://${inputs}/few/`, 'S3Prefix', { maxShards: 1 }));

      expect(planned.files.map((f) => f.shardCount)).toEqual([1, 1, 1]);
    });
  });

  describe('splitType None', () => {
    it('makes each object one record of one shard', async () => {
      const document = JSON.stringify(churnRecords[0], null, 2);
      objects.put({ bucket: inputs, key: 'docs/a.json' }, document);
      objects.put({ bucket: inputs, key: 'docs/b.json' }, document);

      const planned = await plan(s3Job(`s3://${inputs}/docs/`, 'S3Prefix', { splitType: 'None' }));

      expect(planned.shards).toEqual([
        {
          index: 0,
          file: 0,
          start: 0,
          end: document.length,
          firstLine: 1,
          startsAtRecord: true,
          atObjectStart: true,
        },
        {
          index: 1,
          file: 1,
          start: 0,
          end: document.length,
          firstLine: 1,
          startsAtRecord: true,
          atObjectStart: true,
        },
      ]);
      expect(planned.totalRecords).toBe(2);
    });

    it('refuses CSV, whose objects are not one JSON record', async () => {
      objects.put({ bucket: inputs, key: 'a.csv' }, csv(2));

      await expect(
        plan(s3Job(`s3://${inputs}/a.csv`, 'S3Object', { splitType: 'None' })),
      ).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
      });
    });

    it('refuses an object larger than maxPayloadMB with RECORD_TOO_LARGE', async () => {
      objects.put({ bucket: inputs, key: 'huge.json' }, `{"pad":"${'x'.repeat(mib)}"}`);

      await expect(
        plan(s3Job(`s3://${inputs}/huge.json`, 'S3Object', { splitType: 'None', maxPayloadMB: 1 })),
      ).rejects.toMatchObject({ code: 'RECORD_TOO_LARGE' });
    });
  });
});

describe('plan locations', () => {
  it('keeps the plan and the shard outputs under work/<jobId>/ of the outputs bucket', () => {
    expect(toS3Uri(planLocationOf('outputs', 'job-1'))).toBe('s3://outputs/work/job-1/plan.json');
    expect(shardOutputLocationOf('outputs', 'job-1', 3)).toEqual({
      output: { bucket: 'outputs', key: 'work/job-1/shards/3.out' },
      failures: { bucket: 'outputs', key: 'work/job-1/shards/3.failed' },
    });
  });
});
