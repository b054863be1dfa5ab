import { locationOf } from '../../lib/domain/s3-location';
import { assembleOutputs } from '../../lib/use-cases/steps/assemble-outputs';
import type { JobPlan, PlannedFile } from '../../lib/domain/job-plan';
import { shardOutputLocationOf } from '../../lib/domain/locations';
import { testResources } from '../fixtures/env';
import { InMemoryObjectStore } from '../fixtures/in-memory';
import { aPlan } from '../fixtures/plans';
import type { ShardProgress } from '../../lib/domain/shard-progress';

const outputs = testResources.outputsBucket;
const mib = 1024 * 1024;

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

  const failure = (line: number, record = 'x') =>
    `${JSON.stringify({ line, record, error: { code: 'MALFORMED_JSON', message: `Line ${line}: bad` } })}\n`;
  const rowsWithLines = (...lines: number[]): ShardProgress[] =>
    lines.map((count, index) => ({
      index,
      status: 'succeeded',
      attempt: 1,
      processed: 1,
      succeeded: 1,
      failed: 0,
      lines: count,
      updatedAt: '2025-01-01T00:00:00.000Z',
    }));

  it("joins each file's shard failures into its .out.failed, numbering later shards' lines from the file's start", async () => {
    const plan = twoFilePlan();
    putShard(0, '', failure(1));
    putShard(1, '', '');
    putShard(2, '', `${failure(3)}${failure(4)}`);
    putShard(3, '', failure(1, 'b'));

    await assembleOutputs(plan, objects, outputs, rowsWithLines(10, 5, 7, 2));

    const [a, b] = plan.files;
    // Shard 2 starts after the 10 + 5 newlines of shards 0 and 1: its line 3 is the file's 18.
    expect(objects.text(locationOf(a!.failureUri))).toBe(`${failure(1)}${failure(18)}${failure(19)}`);
    // b.jsonl's only shard is its first: its lines are the file's already.
    expect(objects.text(locationOf(b!.failureUri))).toBe(failure(1, 'b'));
    expect(objects.contentTypeOf(locationOf(a!.failureUri))).toBe('application/x-ndjson');
  });

  it('refuses to number failures after a shard that reported no line count', async () => {
    const plan = twoFilePlan();
    putShard(1, '', failure(2));

    await expect(assembleOutputs(plan, objects, outputs)).rejects.toThrow('reported no line count');
  });

  it('has the store copy outputs of 5 MiB or more, and reads only small ones to fill a part', async () => {
    const plan = twoFilePlan();
    const big = (label: string, size: number) => `${label.repeat(size - 1)}\n`;
    putShard(0, 'a,0.1\n', '');
    putShard(1, big('b', 12 * mib), '');
    putShard(2, big('c', 6 * mib), '');
    const copied: string[] = [];
    const copyPart = objects.copyPart.bind(objects);
    objects.copyPart = async (target, upload, part, source, start, end) => {
      copied.push(`${source.key} ${start}-${end}`);
      return copyPart(target, upload, part, source, start, end);
    };

    await assembleOutputs(plan, objects, outputs);

    expect(objects.text(locationOf(plan.files[0]!.outputUri))).toBe(
      `a,0.1\n${big('b', 12 * mib)}${big('c', 6 * mib)}`,
    );
    // Shard 0's 6 bytes are topped up to a 5 MiB part from shard 1's start; the rest is copied.
    expect(objects.rangesRead).toEqual([
      `s3://${outputs}/work/job-1/shards/0.out 0-5`,
      `s3://${outputs}/work/job-1/shards/1.out 0-${5 * mib - 7}`,
    ]);
    expect(copied).toEqual([
      `work/job-1/shards/1.out ${5 * mib - 6}-${12 * mib - 1}`,
      `work/job-1/shards/2.out 0-${6 * mib - 1}`,
    ]);
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
    putShard(0, 'a,0.1\n', '');
    objects.openRange = async () => Promise.reject(new Error('SlowDown'));

    await expect(assembleOutputs(plan, objects, outputs)).rejects.toThrow('SlowDown');
  });
});
