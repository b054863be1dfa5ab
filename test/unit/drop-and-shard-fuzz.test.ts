import fc from 'fast-check';
import { runPlannedShard } from '../../gpu-container/src/run-shard';
import type { ShardModel } from '../../gpu-container/src/batch-pipeline';
import type { Job } from '../../lib/domain/job';
import { shardOutputLocationOf } from '../../lib/domain/locations';
import type { FailureLine } from '../../lib/domain/worker-output';
import { LongtailError } from '../../lib/errors';
import { findModel } from '../fixtures/shipped-manifests';
import { RegistryModelCatalog } from '../../lib/use-cases/model-catalog';
import { decodeS3EventKey, startDroppedJob } from '../../lib/use-cases/s3-drop';
import { buildJobPlan } from '../../lib/use-cases/steps/job-planner';
import { testResources } from '../fixtures/env';
import {
  InMemoryJobStore,
  InMemoryObjectStore,
  RecordingEventPublisher,
  RecordingJobQueue,
} from '../fixtures/in-memory';
import { aJob, churnCsvRow, churnHeader, churnRecords } from '../fixtures/jobs';
import { shippedModelRegistry } from '../fixtures/models';
import { fuzzParameters } from '../support/fuzz/settings';

const inputs = testResources.inputsBucket;
const outputs = testResources.outputsBucket;
const manifest = findModel('churn-risk')!;

/** A stand-in that predicts the same for every record: the shard's handling is under test, not the model. */
const constantModel: ShardModel = {
  run: async (records) => ({
    predictions: records.map(() => ({ label: 'stays', score: 0.5 })),
    failures: records.map(() => null),
  }),
  parallelBatches: 1,
};

const utf8 = (text: string) => Buffer.from(text, 'utf8');

/** A file of good records and hostile bytes in any mix: what a user's export can look like. */
const hostileFile = (format: 'jsonl' | 'csv') =>
  fc
    .array(
      fc.oneof(
        fc
          .constantFrom(...churnRecords)
          .map((record) =>
            utf8(format === 'csv' ? `${churnCsvRow(record)}\n` : `${JSON.stringify(record)}\n`),
          ),
        fc.uint8Array({ maxLength: 48 }).map((bytes) => Buffer.from(bytes)),
        fc.constantFrom('\n', '"', '""', ',', '\u0000', '\uFEFF', '{"a":', '\r', '\\', '\uD800').map(utf8),
        fc.constant(Buffer.from([0xed, 0xa0, 0x80])),
      ),
      { maxLength: 40 },
    )
    .map((pieces) =>
      Buffer.concat([format === 'csv' ? utf8(`${churnHeader.join(',')}\n`) : Buffer.alloc(0), ...pieces]),
    );

describe('a shard over hostile bytes', () => {
  it.each(['jsonl', 'csv'] as const)(
    'ends every %s record as an output line or a failure line with a code, and never crashes',
    async (format) => {
      await fc.assert(
        fc.asyncProperty(hostileFile(format), fc.integer({ min: 1, max: 4 }), async (body, shardSizeKB) => {
          const objects = new InMemoryObjectStore();
          const key = `fuzz/input.${format}`;
          objects.put({ bucket: inputs, key }, body);
          const base = aJob({ jobId: 'job-1', status: 'running' });
          const job: Job = {
            ...base,
            input: { type: 's3', s3Uri: `s3://${inputs}/${key}`, s3DataType: 'S3Object' },
            inputUri: `s3://${inputs}/${key}`,
            options: { ...base.options, shardSizeMB: shardSizeKB / 1024 },
          };
          let plan;
          try {
            plan = await buildJobPlan(job, manifest, {
              objects,
              inputsBucket: inputs,
              outputsBucket: outputs,
            });
          } catch (error) {
            // A file planning refuses (nothing in it, say) is a typed job error, not a crash.
            if (error instanceof LongtailError) return;
            throw error;
          }
          let total = 0;
          let written = 0;
          for (const shard of plan.shards) {
            const counts = await runPlannedShard({
              plan,
              shard,
              served: { name: manifest.name, manifest },
              model: constantModel,
              objects,
              outputsBucket: outputs,
              onProgress: async () => undefined,
              progressIntervalMs: 60_000,
            });
            const locations = shardOutputLocationOf(outputs, 'job-1', shard.index);
            const lines = (objects.text(locations.output) ?? '').split('\n').filter(Boolean);
            const failures = (objects.text(locations.failures) ?? '')
              .split('\n')
              .filter(Boolean)
              .map((line) => JSON.parse(line) as FailureLine);
            for (const failure of failures) expect(failure.error.code).toMatch(/^[A-Z][A-Z_]+$/);
            expect(lines.length + failures.length).toBe(counts.total);
            expect([counts.succeeded, counts.failed]).toEqual([lines.length, failures.length]);
            total += counts.total;
            written += lines.length + failures.length;
          }
          expect(written).toBe(total);
          expect(total).toBe(plan.totalRecords);
        }),
        fuzzParameters(60),
      );
    },
  );
});

describe('a drop of any key, with any sidecar', () => {
  const keyPart = fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
    fc.constantFrom('..', '.', ' ', 'a b', '%', '%E0%A4%A', '+', 'été', '\u0000', 'x'.repeat(900)),
  );
  const sidecar = fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 40 }),
    fc.json(),
    fc.constantFrom('{"csvHeader":"present"}', '{"options":{"maxBatchSize":-1}}', '[]', 'null', '{'),
  );

  it('starts a job or records a rejected one, and never throws', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(keyPart, { minLength: 1, maxLength: 3 }),
        sidecar,
        async (parts, sidecarBody) => {
          const key = decodeS3EventKey(`drop/churn-risk/${parts.join('/')}`);
          const objects = new InMemoryObjectStore();
          objects.put({ bucket: inputs, key }, `${JSON.stringify(churnRecords[0])}\n`);
          if (sidecarBody !== undefined)
            objects.put({ bucket: inputs, key: `${key}.options.json` }, sidecarBody);
          const store = new InMemoryJobStore();
          const deps = {
            store,
            queue: new RecordingJobQueue(),
            objects,
            events: new RecordingEventPublisher(),
            models: new RegistryModelCatalog(shippedModelRegistry()),
            ownerId: 'drop-owner',
            inputsBucket: inputs,
            outputsBucket: outputs,
          };

          const created = await startDroppedJob({ bucket: inputs, key, sequencer: '01' }, deps);

          const { jobs } = await store.listByOwner('drop-owner', { limit: 10 });
          // A job started, a rejected drop recorded with its code, or (a folder marker, a sidecar) nothing.
          const outcome = created ? created.job.status : (jobs[0]?.error?.code ?? 'nothing');
          expect(outcome).toMatch(/^(pending|nothing|[A-Z][A-Z_]+)$/);
        },
      ),
      fuzzParameters(150),
    );
  });

  it('reads a key S3 did not encode as written', () => {
    expect(decodeS3EventKey('drop/churn-risk/100%+sure.csv')).toBe('drop/churn-risk/100% sure.csv');
  });
});
