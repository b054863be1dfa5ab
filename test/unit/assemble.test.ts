import { locationOf } from '../../lib/domain/s3-location';
import { assembleOutputs } from '../../lib/use-cases/steps/assemble-outputs';
import type { JobPlan, PlannedFile } from '../../lib/domain/job-plan';
import { shardOutputLocationOf } from '../../lib/domain/locations';
import { testResources } from '../fixtures/env';
import { InMemoryObjectStore } from '../fixtures/in-memory';
import { aPlan } from '../fixtures/plans';

const outputs = testResources.outputsBucket;

/** A plan of two files: a.csv in shards 0–2 (CSV out), b.jsonl in shard 3. */
const twoFilePlan = (): JobPlan => {
  const base = aPlan({ jobId: 'job-1', records: [1, 1, 1, 1] });
  const file = (
    name: string,
    format: 'csv' | 'jsonl',
    firstShard: number,
    shardCount: number,
  ): PlannedFile => ({
    inputUri: `s3://${testResources.inputsBucket}/in/${name}`,
    format,
    outputFormat: format,
    outputUri: `s3://${outputs}/outputs/job-1/${name}.out`,
    failureUri: `s3://${outputs}/outputs/job-1/${name}.out.failed`,
    bytes: 100,
    records: shardCount,
    firstShard,
    shardCount,
  });
  return {
    ...base,
    files: [file('a.csv', 'csv', 0, 3), file('b.jsonl', 'jsonl', 3, 1)],
    shards: base.shards.map((shard, index) => ({ ...shard, file: index < 3 ? 0 : 1 })),
  };
};

describe('assembleOutputs', () => {
  let objects: InMemoryObjectStore;
  const putShard = (shard: number, output?: string, failures?: string) => {
    const locations = shardOutputLocationOf(outputs, 'job-1', shard);
    if (output !== undefined) objects.put(locations.output, output);
    if (failures !== undefined) objects.put(locations.failures, failures);
  };

  beforeEach(() => {
    objects = new InMemoryObjectStore();
  });

  it("joins each file's shard outputs in shard order, whatever order they were written in", async () => {
    const plan = twoFilePlan();
    putShard(2, 'c,0.3\n', '');
    putShard(0, 'a,0.1\n', '');
    putShard(3, '{"label":"d"}\n', '');
    putShard(1, 'b,0.2\n', '');

    await assembleOutputs(plan, objects, outputs);

    expect(objects.text(locationOf(plan.files[0]!.outputUri))).toBe('a,0.1\nb,0.2\nc,0.3\n');
    expect(objects.text(locationOf(plan.files[1]!.outputUri))).toBe('{"label":"d"}\n');
  });

  it("joins each file's shard failures into its .out.failed, as JSON Lines", async () => {
    const plan = twoFilePlan();
    putShard(0, '', '{"line":1}\n');
    putShard(1, '', '');
    putShard(2, '', '{"line":3}\n{"line":4}\n');
    putShard(3, '', '{"line":1,"file":"b"}\n');

    await assembleOutputs(plan, objects, outputs);

    const [a, b] = plan.files;
    expect(objects.text(locationOf(a!.failureUri))).toBe('{"line":1}\n{"line":3}\n{"line":4}\n');
    expect(objects.text(locationOf(b!.failureUri))).toBe('{"line":1,"file":"b"}\n');
    expect(objects.contentTypeOf(locationOf(a!.failureUri))).toBe('application/x-ndjson');
  });

  it('writes each output with the content type of its format', async () => {
    const plan = twoFilePlan();
    for (const shard of [0, 1, 2, 3]) putShard(shard, '', '');

    await assembleOutputs(plan, objects, outputs);

    expect(objects.contentTypeOf(locationOf(plan.files[0]!.outputUri))).toBe('text/csv');
    expect(objects.contentTypeOf(locationOf(plan.files[1]!.outputUri))).toBe('application/x-ndjson');
  });

  it('skips a shard that left no output, and still writes the file', async () => {
    const plan = twoFilePlan();
    putShard(0, 'a,0.1\n');
    putShard(2, 'c,0.3\n');

    await assembleOutputs(plan, objects, outputs);

    expect(objects.text(locationOf(plan.files[0]!.outputUri))).toBe('a,0.1\nc,0.3\n');
    expect(objects.text(locationOf(plan.files[0]!.failureUri))).toBe('');
    expect(objects.text(locationOf(plan.files[1]!.outputUri))).toBe('');
  });

  it('writes empty outputs for a file with no shard (an empty file beside others)', async () => {
    const plan = twoFilePlan();
    plan.files[1] = { ...plan.files[1]!, shardCount: 0, records: 0 };

    await assembleOutputs(plan, objects, outputs);

    expect(objects.text(locationOf(plan.files[1]!.outputUri))).toBe('');
    expect(objects.text(locationOf(plan.files[1]!.failureUri))).toBe('');
  });

  it('lets a read error other than a missing object through', async () => {
    const plan = twoFilePlan();
    objects.openRead = async () => Promise.reject(new Error('SlowDown'));

    await expect(assembleOutputs(plan, objects, outputs)).rejects.toThrow('SlowDown');
  });
});
