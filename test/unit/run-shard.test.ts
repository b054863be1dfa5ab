import type { ShardModel } from '../../gpu-container/src/batch-pipeline';
import { runPlannedShard } from '../../gpu-container/src/run-shard';
import type { ShardWork } from '../../gpu-container/src/run-shard';
import type { FailureLine } from '../../lib/domain/worker-output';
import type { ShardProgress } from '../../lib/domain/shard-progress';
import { locationOf } from '../../lib/domain/s3-location';
import { assembleOutputs } from '../../lib/use-cases/steps/assemble-outputs';
import type { Job, RecordCounts } from '../../lib/domain/job';
import type { JobOptions } from '../../lib/domain/job-options';
import { buildJobPlan } from '../../lib/use-cases/steps/job-planner';
import { shardOutputLocationOf } from '../../lib/domain/locations';
import type { JobPlan } from '../../lib/domain/job-plan';
import type { ModelRecord } from '../../lib/models/record-schema';
import { findModel } from '../fixtures/shipped-manifests';
import type { Prediction } from '../../lib/models/tensors';
import { testResources } from '../fixtures/env';
import { InMemoryObjectStore } from '../fixtures/in-memory';
import { aJob, aShardProgress, churnCsvRow, churnHeader, churnRecords } from '../fixtures/jobs';

const inputs = testResources.inputsBucket;
const outputs = testResources.outputsBucket;
const manifest = findModel('churn-risk')!;

/** The tenure that makes the stand-in model throw, as a record that poisons its batch would. */
const poisonTenure = 13;

/** A stand-in for the ONNX model: churns below a year of tenure; throws on a poisoned record. */
const fakePredict =
  (calls: ModelRecord[][]) =>
  async (records: ModelRecord[]): Promise<Prediction[]> => {
    calls.push(records);
    if (records.some((r) => r.tenure_months === poisonTenure)) throw new Error('non-finite logit');
    return records.map((r) => {
      const churns = Number(r.tenure_months) < 12;
      const score = churns ? 0.75 : 0.875;
      return {
        label: churns ? 'churns' : 'stays',
        score,
        scores: churns ? { stays: 1 - score, churns: score } : { stays: score, churns: 1 - score },
      };
    });
  };
/** The stand-in model as the shard runs it, one batch at a time. */
const fakeModel = (calls: ModelRecord[][]): ShardModel => {
  const predict = fakePredict(calls);
  return {
    run: async (records) => ({ predictions: await predict(records), failures: records.map(() => null) }),
    parallelBatches: 1,
  };
};

const predictionFor = (record: { tenure_months: number }): Prediction =>
  record.tenure_months < 12
    ? { label: 'churns', score: 0.75, scores: { stays: 0.25, churns: 0.75 } }
    : { label: 'stays', score: 0.875, scores: { stays: 0.875, churns: 0.125 } };

const customer = (tenure: number, id?: number) => ({
  ...(id === undefined ? {} : { id }),
  ...churnRecords[0]!,
  tenure_months: tenure,
});

interface ShardRun {
  plan: JobPlan;
  counts: RecordCounts[];
  outputs: string[];
  failures: FailureLine[];
  predictCalls: ModelRecord[][];
  progress: RecordCounts[];
}

describe('runPlannedShard', () => {
  let objects: InMemoryObjectStore;

  beforeEach(() => {
    objects = new InMemoryObjectStore();
  });

  /** Puts `body` in the inputs bucket, plans it with the job's options, and runs every shard. */
  const run = async (
    key: string,
    body: string,
    options: Partial<JobOptions> = {},
    work: Partial<ShardWork> = {},
  ): Promise<ShardRun> => {
    objects.put({ bucket: inputs, key }, body);
    const base = aJob({ jobId: 'job-1', status: 'running' });
    const job: Job = {
      ...base,
      input: { type: 's3', s3Uri: `s3://${inputs}/${key}`, s3DataType: 'S3Object' },
      inputUri: `s3://${inputs}/${key}`,
      options: { ...base.options, ...options },
    };
    const plan = await buildJobPlan(job, manifest, { objects, inputsBucket: inputs, outputsBucket: outputs });
    const predictCalls: ModelRecord[][] = [];
    const progress: RecordCounts[] = [];
    const counts: RecordCounts[] = [];
    const outputLines: string[] = [];
    const failures: FailureLine[] = [];
    const rows: ShardProgress[] = [];
    for (const shard of plan.shards) {
      let lines: number | undefined;
      counts.push(
        await runPlannedShard({
          plan,
          shard,
          served: { name: manifest.name, manifest },
          model: fakeModel(predictCalls),
          objects,
          outputsBucket: outputs,
          progressIntervalMs: 60_000,
          ...work,
          onProgress: async (soFar, read) => {
            lines = read.lines;
            await (work.onProgress ?? (async () => void progress.push(soFar)))(soFar, read);
          },
        }),
      );
      const locations = shardOutputLocationOf(outputs, 'job-1', shard.index);
      outputLines.push(...(objects.text(locations.output) ?? '').split('\n').filter(Boolean));
      rows.push({ ...aShardProgress({ index: shard.index }), ...(lines !== undefined ? { lines } : {}) });
    }
    // The file's failures as assembly writes them: line numbers in the file, not the shard.
    await assembleOutputs(plan, objects, outputs, rows);
    failures.push(
      ...(objects.text(locationOf(plan.files[0]!.failureUri)) ?? '')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as FailureLine),
    );
    return { plan, counts, outputs: outputLines, failures, predictCalls, progress };
  };

  const jsonl = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

  describe('JSON Lines', () => {
    it('writes each record’s prediction object, in input order, and counts them', async () => {
      const records = [customer(3), customer(40), customer(7)];

      const result = await run('in.jsonl', jsonl(records));

      expect(result.outputs.map((line) => JSON.parse(line) as Prediction)).toEqual(
        records.map(predictionFor),
      );
      expect(result.counts).toEqual([{ total: 3, succeeded: 3, failed: 0 }]);
      expect(result.failures).toEqual([]);
    });

    it('writes a failure line with the line number, the record as written and the reason, and goes on', async () => {
      const lines = [
        JSON.stringify(customer(3)),
        '{"tenure_months": 3,',
        JSON.stringify({ ...customer(5), contract: 'weekly' }),
        '',
        JSON.stringify(customer(50)),
      ];

      const result = await run('in.jsonl', `${lines.join('\n')}\n`);

      expect(result.counts).toEqual([{ total: 4, succeeded: 2, failed: 2 }]);
      expect(result.outputs).toHaveLength(2);
      expect(result.failures).toEqual([
        {
          line: 2,
          record: lines[1],
          error: { code: 'MALFORMED_JSON', message: expect.stringContaining('Line 2') },
        },
        {
          line: 3,
          record: lines[2],
          error: { code: 'INVALID_RECORD', message: expect.stringContaining('contract') },
        },
      ]);
    });

    it('joins the prediction to the input record and writes what the output filter selects', async () => {
      const records = [customer(3, 101), customer(40, 102)];

      const result = await run('in.jsonl', jsonl(records), {
        joinSource: 'Input',
        outputFilter: "$['id','prediction']",
      });

      expect(result.outputs.map((line) => JSON.parse(line) as unknown)).toEqual([
        { id: 101, prediction: predictionFor(records[0]!) },
        { id: 102, prediction: predictionFor(records[1]!) },
      ]);
    });

    it('gives the model what the input filter selects', async () => {
      const records = [
        { id: 'a', features: customer(3) },
        { id: 'b', features: customer(40) },
      ];

      const result = await run('in.jsonl', jsonl(records), { inputFilter: '$.features' });

      expect(result.predictCalls).toEqual([[customer(3), customer(40)]]);
      expect(result.counts).toEqual([{ total: 2, succeeded: 2, failed: 0 }]);
    });

    it('fails a record the input filter selects nothing in, with FILTER_SELECTED_NOTHING', async () => {
      const result = await run('in.jsonl', jsonl([{ features: customer(3) }, customer(3)]), {
        inputFilter: '$.features',
      });

      expect(result.failures).toEqual([
        expect.objectContaining({
          line: 2,
          error: expect.objectContaining({ code: 'FILTER_SELECTED_NOTHING' }),
        }),
      ]);
    });

    it('reads a whole object as one record with splitType None', async () => {
      const record = JSON.stringify(customer(3), null, 2);

      const result = await run('doc.json', record, { splitType: 'None' });

      expect(result.counts).toEqual([{ total: 1, succeeded: 1, failed: 0 }]);
      expect(result.outputs.map((line) => JSON.parse(line) as Prediction)).toEqual([
        predictionFor(customer(3)),
      ]);
    });
  });

  describe('CSV', () => {
    it('reads rows by position in the manifest’s field order and writes label,score rows', async () => {
      const rows = [customer(3), customer(40)].map(churnCsvRow);

      const result = await run('in.csv', `${rows.join('\n')}\n`);

      expect(result.outputs).toEqual(['churns,0.75', 'stays,0.875']);
      expect(result.counts).toEqual([{ total: 2, succeeded: 2, failed: 0 }]);
      expect(result.predictCalls[0]).toEqual([customer(3), customer(40)]);
    });

    it("reads rows by the header's names when the columns come in another order", async () => {
      const header = [...churnHeader].reverse();
      const row = (r: ReturnType<typeof customer>) =>
        header.map((name) => String(r[name as keyof typeof r])).join(',');

      const result = await run('in.csv', `${header.join(',')}\n${row(customer(3))}\n${row(customer(40))}\n`);

      expect(result.predictCalls[0]).toEqual([customer(3), customer(40)]);
      expect(result.outputs).toEqual(['churns,0.75', 'stays,0.875']);
    });

    it('drops an id column for the model with inputFilter $[1:] and joins the prediction to the row', async () => {
      const body = `id,${churnHeader.join(',')}\nc-1,${churnCsvRow(customer(3))}\nc-2,${churnCsvRow(customer(40))}\n`;

      const result = await run('in.csv', body, {
        inputFilter: '$[1:]',
        joinSource: 'Input',
        outputFilter: '$[0,-2:]',
      });

      expect(result.predictCalls[0]).toEqual([customer(3), customer(40)]);
      expect(result.outputs).toEqual(['c-1,churns,0.75', 'c-2,stays,0.875']);
    });

    it('fails a row of the wrong width with INVALID_RECORD, naming the fields it expects', async () => {
      const result = await run('in.csv', `${churnCsvRow(customer(3))}\n1,2,3\n`);

      expect(result.failures).toEqual([
        {
          line: 2,
          record: '1,2,3',
          error: { code: 'INVALID_RECORD', message: expect.stringContaining('expected 6 values') },
        },
      ]);
    });

    it('writes JSON Lines predictions when the job accepts JSON Lines', async () => {
      const result = await run('in.csv', `${churnCsvRow(customer(3))}\n`, {
        accept: 'application/jsonlines',
      });

      expect(result.outputs.map((line) => JSON.parse(line) as Prediction)).toEqual([
        predictionFor(customer(3)),
      ]);
    });
  });

  describe('batching', () => {
    it('splits a batch whose inference fails until only the poisoned record fails, with INFERENCE_FAILED', async () => {
      const tenures = [1, 2, 3, 4, poisonTenure, 20, 30, 40];
      const records = tenures.map((t) => customer(t));

      const result = await run('in.jsonl', jsonl(records), { maxBatchSize: 8 });

      expect(result.counts).toEqual([{ total: 8, succeeded: 7, failed: 1 }]);
      expect(result.failures).toEqual([
        {
          line: 5,
          record: JSON.stringify(records[4]),
          error: { code: 'INFERENCE_FAILED', message: 'Inference failed: non-finite logit' },
        },
      ]);
      expect(result.outputs.map((line) => JSON.parse(line) as Prediction)).toEqual(
        records.filter((_, i) => i !== 4).map(predictionFor),
      );
      // Halves, first half first: 1–4 pass; of 13,20,30,40 the pair 13,20 is split; 30,40 pass.
      expect(result.predictCalls.map((batch) => batch.length)).toEqual([8, 4, 4, 2, 1, 1, 2]);
    });

    it('fails a record its encoding rejects with INVALID_IMAGE and writes the rest of its batch', async () => {
      const base = fakeModel([]);
      const unreadable: ShardModel = {
        ...base,
        run: async (records) => ({
          ...(await base.run(records)),
          failures: records.map((r) =>
            r.tenure_months === 7
              ? { code: 'INVALID_IMAGE' as const, message: 'The image cannot be decoded: bad CRC.' }
              : null,
          ),
        }),
      };
      const records = [customer(1), customer(7), customer(30)];

      const result = await run('in.jsonl', jsonl(records), { maxBatchSize: 8 }, { model: unreadable });

      expect(result.counts).toEqual([{ total: 3, succeeded: 2, failed: 1 }]);
      expect(result.failures).toEqual([
        {
          line: 2,
          record: JSON.stringify(records[1]),
          error: { code: 'INVALID_IMAGE', message: 'The image cannot be decoded: bad CRC.' },
        },
      ]);
      expect(result.outputs.map((line) => JSON.parse(line) as Prediction)).toEqual(
        [records[0]!, records[2]!].map(predictionFor),
      );
    });

    it('keeps the model busy with batches ahead and writes them in input order, however they finish', async () => {
      const base = fakeModel([]);
      let running = 0;
      let mostRunning = 0;
      let started = 0;
      // Two lanes; a batch's turn takes longer the earlier it started, so later batches finish first.
      const lanes: ShardModel = {
        parallelBatches: 2,
        run: async (records) => {
          running++;
          mostRunning = Math.max(mostRunning, running);
          const delay = 12 - 2 * (started++ % 4);
          await new Promise((resolve) => setTimeout(resolve, delay));
          running--;
          return base.run(records);
        },
      };
      const records = Array.from({ length: 20 }, (_, i) => customer(20 + i, i));

      const result = await run(
        'in.jsonl',
        jsonl(records),
        { maxBatchSize: 2, joinSource: 'Input', outputFilter: "$['id','prediction']" },
        { model: lanes, prefetchBatches: 2 },
      );

      // Both lanes busy and two batches more started: parallelBatches + prefetchBatches.
      expect(mostRunning).toBe(4);
      expect(result.outputs.map((line) => (JSON.parse(line) as { id: number }).id)).toEqual(
        records.map((r) => r.id),
      );
    });

    it('sends records in batches of maxBatchSize', async () => {
      const result = await run('in.jsonl', jsonl(Array.from({ length: 10 }, (_, i) => customer(i))), {
        maxBatchSize: 4,
      });

      expect(result.predictCalls.map((batch) => batch.length)).toEqual([4, 4, 2]);
    });

    it('keeps batches within the model’s own best size (CPU lanes), the job’s maxBatchSize being larger', async () => {
      const calls: ModelRecord[][] = [];
      const capped: ShardModel = { ...fakeModel(calls), maxBatchSize: 3 };
      const result = await run(
        'capped.jsonl',
        jsonl(Array.from({ length: 7 }, (_, i) => customer(i))),
        { maxBatchSize: 64 },
        { model: capped },
      );

      expect(calls.map((batch) => batch.length)).toEqual([3, 3, 1]);
      expect(result.counts).toEqual([{ total: 7, succeeded: 7, failed: 0 }]);
    });

    it('sends one record per call with SingleRecord', async () => {
      const result = await run('in.jsonl', jsonl([customer(1), customer(2), customer(3)]), {
        batchStrategy: 'SingleRecord',
      });

      expect(result.predictCalls.map((batch) => batch.length)).toEqual([1, 1, 1]);
      expect(result.counts).toEqual([{ total: 3, succeeded: 3, failed: 0 }]);
    });

    it('closes a batch before it would pass maxPayloadMB', async () => {
      const padded = Array.from({ length: 7 }, (_, i) => ({ ...customer(i), note: 'x'.repeat(300 * 1024) }));

      const result = await run('in.jsonl', jsonl(padded), { maxPayloadMB: 1, maxBatchSize: 64 });

      expect(result.predictCalls.map((batch) => batch.length)).toEqual([3, 3, 1]);
      expect(result.counts).toEqual([{ total: 7, succeeded: 7, failed: 0 }]);
    });

    it('fails a record larger than maxPayloadMB with RECORD_TOO_LARGE', async () => {
      const huge = { ...customer(1), note: 'x'.repeat(1024 * 1024) };

      const result = await run('in.jsonl', jsonl([customer(2), huge, customer(3)]), { maxPayloadMB: 1 });

      expect(result.counts).toEqual([{ total: 3, succeeded: 2, failed: 1 }]);
      expect(result.failures[0]).toMatchObject({ line: 2, error: { code: 'RECORD_TOO_LARGE' } });
    });
  });

  describe('failure budget', () => {
    const halfBad = () =>
      `${Array.from({ length: 10 }, (_, i) => (i % 2 ? '{not json' : JSON.stringify(customer(i)))).join('\n')}\n`;

    it('throws TOO_MANY_FAILED_RECORDS once more than maxFailedRecordsPercent of the records failed', async () => {
      await expect(run('in.jsonl', halfBad(), { maxFailedRecordsPercent: 10 })).rejects.toMatchObject({
        code: 'TOO_MANY_FAILED_RECORDS',
        message: expect.stringContaining('5 of 10 records failed in shard 0'),
      });
    });

    it('keeps what it wrote before it stopped', async () => {
      await expect(run('in.jsonl', halfBad(), { maxFailedRecordsPercent: 10 })).rejects.toThrow();

      const failures = objects.text(shardOutputLocationOf(outputs, 'job-1', 0).failures) ?? '';
      expect(failures.split('\n').filter(Boolean)).toHaveLength(5);
    });

    it('throws TOO_MANY_FAILED_RECORDS when every record fails before reaching the model', async () => {
      const allBad = `${Array.from({ length: 10 }, () => '{not json').join('\n')}\n`;

      await expect(run('in.jsonl', allBad, { maxFailedRecordsPercent: 10 })).rejects.toMatchObject({
        code: 'TOO_MANY_FAILED_RECORDS',
        message: expect.stringContaining('10 of 10 records failed in shard 0'),
      });
    });

    it('goes on while the failures stay within the budget', async () => {
      const result = await run('in.jsonl', halfBad(), { maxFailedRecordsPercent: 50 });

      expect(result.counts).toEqual([{ total: 10, succeeded: 5, failed: 5 }]);
    });
  });

  describe('shards', () => {
    it('runs each shard of a large file on its own byte range, and together they give every record once, in order', async () => {
      const records = Array.from({ length: 25_000 }, (_, i) => customer(i % 12, i));

      const result = await run('big.jsonl', jsonl(records), { shardSizeMB: 1, maxBatchSize: 512 });

      expect(result.plan.shards.length).toBeGreaterThan(2);
      // A ranged read to align each inner cut (twice: the shards on both sides ask), and one of the records.
      expect(objects.rangesRead.filter((range) => range.includes('/big.jsonl '))).toHaveLength(
        result.plan.shards.length + 2 * (result.plan.shards.length - 1),
      );
      expect(result.counts.reduce((sum, c) => sum + c.succeeded, 0)).toBe(25_000);
      expect(result.outputs).toHaveLength(25_000);
      expect(result.outputs.map((line) => (JSON.parse(line) as Prediction).label)).toEqual(
        records.map((r) => predictionFor(r).label),
      );
    });

    it("reports a failed record's line in the file, not in its shard", async () => {
      const records: string[] = Array.from({ length: 25_000 }, (_, i) => JSON.stringify(customer(i % 12, i)));
      records[20_000] = '{broken';

      const result = await run('big.jsonl', `${records.join('\n')}\n`, { shardSizeMB: 1 });

      expect(result.failures).toEqual([expect.objectContaining({ line: 20_001, record: '{broken' })]);
    });

    it('fails with INPUT_NOT_FOUND when the input is gone by the time the shard runs', async () => {
      const { plan } = await run('in.jsonl', jsonl([customer(1)]));
      objects.objects.clear();

      await expect(
        runPlannedShard({
          plan,
          shard: plan.shards[0]!,
          served: { name: manifest.name, manifest },
          model: fakeModel([]),
          objects,
          outputsBucket: outputs,
          onProgress: async () => undefined,
        }),
      ).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' });
    });
  });

  describe('progress', () => {
    it('reports the counts so far after each batch when the interval has passed, and at the end', async () => {
      const result = await run(
        'in.jsonl',
        jsonl(Array.from({ length: 5 }, (_, i) => customer(i))),
        { maxBatchSize: 2 },
        {
          progressIntervalMs: 0,
        },
      );

      // `total` counts records read: the batches encoded ahead of inference are already in it.
      expect(result.progress).toEqual([
        { total: 5, succeeded: 2, failed: 0 },
        { total: 5, succeeded: 4, failed: 0 },
        { total: 5, succeeded: 5, failed: 0 },
        { total: 5, succeeded: 5, failed: 0 },
      ]);
    });

    it('reports at least once, at the end, however fast the shard runs', async () => {
      const result = await run('in.jsonl', jsonl([customer(1)]));

      expect(result.progress).toEqual([{ total: 1, succeeded: 1, failed: 0 }]);
    });
  });
});
