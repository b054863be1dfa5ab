import { openShardRecords } from '../../gpu-container/src/record-admission';
import type { Job } from '../../lib/domain/job';
import type { PlannedShard } from '../../lib/domain/job-plan';
import { shardOutputLocationOf } from '../../lib/domain/locations';
import { locationOf } from '../../lib/domain/s3-location';
import type { ShardProgress } from '../../lib/domain/shard-progress';
import type { RecordFormat } from '../../lib/records/formats';
import { alignedRangeOf, rangeReaderOf } from '../../lib/records/record-boundary';
import { assembleOutputs } from '../../lib/use-cases/steps/assemble-outputs';
import { buildJobPlan } from '../../lib/use-cases/steps/job-planner';
import { testResources } from '../fixtures/env';
import { aJob } from '../fixtures/jobs';
import { GeneratedObjectStore } from '../support/generated-object-store';

/**
 * Issue 15's terabyte, simulated: a 1 TiB JSON Lines object and a 1 TiB CSV (quoted fields with
 * newlines and `""` in every record) generated on demand, planned and assembled through a store
 * that counts requests and bytes, and the workers' alignment run on sampled shards.
 */
const inputs = testResources.inputsBucket;
const outputs = testResources.outputsBucket;
const tib = 1024 ** 4;
const mib = 1024 ** 2;
const recordsPerBlock = 16;

/** A deterministic file of identical-size blocks of 16 records, each record naming its block and place. */
const syntheticFile = (format: RecordFormat) => {
  const header = format === 'csv' ? 'block,rec,text,tail\n' : '';
  const padOf = (j: number) => 20 + ((j * 97) % 400);
  const recordOf = (block: string, j: number) =>
    format === 'csv'
      ? `${block},${j},"line ${j}\nsecond ""quoted"" line, with a comma\n${'y'.repeat(padOf(j))}",end\n`
      : `${JSON.stringify({ block, rec: j, pad: 'x'.repeat(padOf(j)) })}\n`;
  const blockOf = (k: number) => {
    const id = String(k).padStart(12, '0');
    return Array.from({ length: recordsPerBlock }, (_, j) => recordOf(id, j)).join('');
  };
  const starts: number[] = [];
  let at = 0;
  for (let j = 0; j < recordsPerBlock; j++) {
    starts.push(at);
    at += Buffer.byteLength(recordOf('0'.repeat(12), j));
  }
  const blockBytes = at;
  const blocks = Math.floor(tib / blockBytes);
  const size = header.length + blocks * blockBytes;
  let cached: { k: number; bytes: Buffer } | undefined;
  const block = (k: number) => {
    if (cached?.k !== k) cached = { k, bytes: Buffer.from(blockOf(k)) };
    return cached.bytes;
  };
  return {
    format,
    size,
    headerBytes: header.length,
    /** Bytes [start, end), built from the blocks they fall in. */
    bytes(start: number, end: number): Buffer {
      const parts: Buffer[] = [];
      if (start < header.length)
        parts.push(Buffer.from(header).subarray(start, Math.min(end, header.length)));
      for (let at = Math.max(start, header.length); at < end;) {
        const k = Math.floor((at - header.length) / blockBytes);
        const blockStart = header.length + k * blockBytes;
        const piece = block(k).subarray(at - blockStart, Math.min(end, blockStart + blockBytes) - blockStart);
        parts.push(piece);
        at += piece.length;
      }
      return Buffer.concat(parts);
    },
    /** The offset of the first record that starts at or after `offset` (the size past the last). */
    firstRecordAtOrAfter(offset: number): number {
      const relative = Math.max(0, offset - header.length);
      const k = Math.floor(relative / blockBytes);
      const j = starts.findIndex((start) => start >= relative - k * blockBytes);
      const found =
        j === -1 ? header.length + (k + 1) * blockBytes : header.length + k * blockBytes + starts[j]!;
      return Math.min(found, size);
    },
    /** The record's place in the file, from its decoded value. */
    idOf(value: unknown): number {
      const [block, rec] =
        format === 'csv'
          ? [Number((value as string[])[0]), Number((value as string[])[1])]
          : [Number((value as { block: string }).block), (value as { rec: number }).rec];
      return block * recordsPerBlock + rec;
    },
    /** The id of the record at a record start. */
    idAt(offset: number): number {
      const relative = offset - header.length;
      const k = Math.floor(relative / blockBytes);
      return k * recordsPerBlock + starts.indexOf(relative - k * blockBytes);
    },
  };
};

const model = { name: 'simulated', fields: [{ name: 'block' }, { name: 'text' }] };

const terabyteJob = (key: string): Job => {
  const base = aJob({ jobId: 'job-tb', status: 'running' });
  return {
    ...base,
    input: { type: 's3', s3Uri: `s3://${inputs}/${key}`, s3DataType: 'S3Object' },
    inputUri: `s3://${inputs}/${key}`,
    options: { ...base.options, maxShards: 10_000 },
  };
};

/** A seeded choice of shard indices: the first, the last, and adjacent pairs between. */
const sampleOf = (shards: number, pairs: number) => {
  const picked = new Set([0, shards - 1]);
  let seed = 15;
  for (let i = 0; i < pairs; i++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    const k = seed % (shards - 1);
    picked.add(k).add(k + 1);
  }
  return [...picked].sort((a, b) => a - b);
};

describe.each(['jsonl', 'csv'] as const)('a 1 TiB %s input, simulated', (format) => {
  const file = syntheticFile(format);
  const key = `huge/input.${format}`;
  const location = { bucket: inputs, key };
  let store: GeneratedObjectStore;

  beforeEach(() => {
    store = new GeneratedObjectStore();
    store.add(location, { size: file.size, bytes: (start, end) => file.bytes(start, end) });
  });

  it('is planned reading at most 64 MB and making at most 2 requests a shard', async () => {
    const plan = await buildJobPlan(terabyteJob(key), model, {
      objects: store,
      inputsBucket: inputs,
      outputsBucket: outputs,
    });

    expect(file.size).toBeGreaterThan(0.99 * tib);
    expect(plan.shards).toHaveLength(10_000);
    expect(plan.totalRecords).toBeUndefined();
    expect(plan.totalBytes).toBe(file.size);
    expect(store.bytesRead).toBeLessThanOrEqual(64 * 1e6);
    expect(store.requests).toBeLessThanOrEqual(2 * plan.shards.length);
    // In fact: a HEAD, and for CSV one ranged read of its header.
    expect(store.requests).toBe(format === 'csv' ? 2 : 1);
    const sizes = plan.shards.map((shard) => shard.end - shard.start);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    // CSV: the header row is read and kept out of the first shard.
    expect(plan.files[0]!.header).toEqual(format === 'csv' ? ['block', 'rec', 'text', 'tail'] : undefined);
    expect(plan.shards[0]).toMatchObject({
      start: file.headerBytes,
      firstLine: format === 'csv' ? 2 : 1,
      startsAtRecord: true,
    });
  });

  it('has each sampled shard start and end at the records that start in its cut, so neighbours meet', async () => {
    const plan = await buildJobPlan(terabyteJob(key), model, {
      objects: store,
      inputsBucket: inputs,
      outputsBucket: outputs,
    });
    store.resetCounts();
    const sample = sampleOf(plan.shards.length, 8);
    const ranges = new Map<number, { start: number; end: number }>();
    for (const index of sample) {
      const shard = plan.shards[index]!;
      const range = await alignedRangeOf(rangeReaderOf(store, location), shard, { format, size: file.size });
      expect(range.start).toBe(shard.startsAtRecord ? shard.start : file.firstRecordAtOrAfter(shard.start));
      expect(range.end).toBe(file.firstRecordAtOrAfter(shard.end));
      ranges.set(index, range);
    }
    const neighbours = sample.filter((index) => ranges.has(index + 1));
    expect(neighbours.length).toBeGreaterThanOrEqual(8);
    expect(neighbours.map((index) => ranges.get(index)!.end)).toEqual(
      neighbours.map((index) => ranges.get(index + 1)!.start),
    );
    expect(ranges.get(plan.shards.length - 1)!.end).toBe(file.size);
    // Aligning costs a window a cut: at most 3 requests and 256 KiB a shard, not its 110 MB.
    expect(store.requests).toBeLessThanOrEqual(3 * sample.length);
    expect(store.bytesRead).toBeLessThanOrEqual(256 * 1024 * sample.length);
  });

  it('reads every record of two adjacent worker ranges exactly once, in order, deep in the file', async () => {
    const first = Math.floor(0.7 * file.size) + 12_345;
    const cuts = [first, first + 3 * mib + 777, first + 6 * mib + 99];
    const plannedFile = {
      inputUri: `s3://${inputs}/${key}`,
      format,
      outputFormat: format,
      outputUri: `s3://${outputs}/o`,
      failureUri: `s3://${outputs}/f`,
      bytes: file.size,
      firstShard: 0,
      shardCount: 2,
    };
    const ids: number[] = [];
    const linesOfRecords: number[] = [];
    const expectedLines: number[] = [];
    let lines = 0;
    for (const [index, start] of cuts.slice(0, 2).entries()) {
      const shard: PlannedShard = {
        index,
        file: 0,
        start,
        end: cuts[index + 1]!,
        firstLine: 1,
        startsAtRecord: false,
        atObjectStart: false,
      };
      const opened = await openShardRecords(store, plannedFile, shard, {
        splitType: 'Line',
        maxRecordBytes: mib,
      });
      let shardRecords = 0;
      for await (const chunk of opened.chunks) {
        for (const record of chunk) {
          if (!record.ok) throw new Error(`Record at line ${record.line} did not decode`);
          // Lines count from the shard's first byte; CSV records span three.
          linesOfRecords.push(record.line);
          expectedLines.push(1 + shardRecords * (format === 'csv' ? 3 : 1));
          ids.push(file.idOf(record.value));
          shardRecords++;
        }
      }
      lines += opened.position.lines;
    }
    const expectedFirst = file.idAt(file.firstRecordAtOrAfter(cuts[0]!));
    const expectedEnd = file.idAt(file.firstRecordAtOrAfter(cuts[2]!));
    expect(ids).toEqual(Array.from({ length: expectedEnd - expectedFirst }, (_, i) => expectedFirst + i));
    expect(linesOfRecords).toEqual(expectedLines);
    expect(lines).toBe(ids.length * (format === 'csv' ? 3 : 1));
  });

  it('is assembled with at most 3 requests a shard, copying every output of 5 MiB or more', async () => {
    const plan = await buildJobPlan(terabyteJob(key), model, {
      objects: store,
      inputsBucket: inputs,
      outputsBucket: outputs,
    });
    // Shard outputs as workers would leave them: most of 20–60 MiB, one in fifty under 5 MiB,
    // and a failure file for one shard in a hundred.
    let outputBytes = 0;
    const rows: ShardProgress[] = [];
    const letters = Buffer.alloc(64 * 1024, 0x61);
    const filler = (size: number) => ({
      size,
      bytes: (start: number, end: number) => letters.subarray(0, end - start),
    });
    for (const shard of plan.shards) {
      const locations = shardOutputLocationOf(outputs, plan.jobId, shard.index);
      const size =
        shard.index % 50 === 3 ? 1 * mib + shard.index : 20 * mib + ((shard.index * 7919) % (40 * mib));
      store.add(locations.output, filler(size));
      outputBytes += size;
      const failure = `${JSON.stringify({ line: 2, record: 'x', error: { code: 'MALFORMED_JSON', message: 'Line 2: bad' } })}\n`;
      store.add(locations.failures, { body: Buffer.from(shard.index % 100 === 50 ? failure : '') });
      rows.push({
        index: shard.index,
        status: 'succeeded',
        attempt: 1,
        processed: 100,
        succeeded: 99,
        failed: 1,
        lines: 300_000,
        updatedAt: '2025-01-01T00:00:00.000Z',
      });
    }
    store.resetCounts();

    await assembleOutputs(plan, store, outputs, rows);

    expect(store.requests).toBeLessThanOrEqual(3 * plan.shards.length);
    expect(store.sizeOf(locationOf(plan.files[0]!.outputUri))).toBe(outputBytes);
    // Only the small outputs (and what tops them up to a part) were read: far below the output.
    expect(store.bytesRead).toBeLessThan(outputBytes / 100);
    const failures = store.objects.get(`${outputs}/${locationOf(plan.files[0]!.failureUri).key}`);
    expect(
      failures && 'body' in failures ? failures.body.toString().split('\n').filter(Boolean) : [],
    ).toHaveLength(100);
  });
});
