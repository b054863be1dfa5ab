import { InvalidInput } from '../../lib/errors';
import { recordSpans } from '../../lib/records/boundaries';
import type { RecordSpan } from '../../lib/records/boundaries';
import { decodeRecords, parseCsvHeader } from '../../lib/records/decode';
import type { DecodedRecord } from '../../lib/records/decode';
import type { RecordFormat } from '../../lib/records/formats';
import { splitIntoShards, shardBytesToRead } from '../../lib/records/shard-plan';
import type { ShardPlan } from '../../lib/records/shard-plan';
import { mulberry32 } from '../../lib/seeded-random';
import type { Rand } from '../../lib/seeded-random';

const BOM = '\uFEFF';

/** Yields `bytes` in pieces of 1 to `largest` bytes (one piece when `largest` is Infinity). */
async function* chunked(bytes: Uint8Array, rand: Rand, largest: number): AsyncGenerator<Uint8Array> {
  let at = 0;
  while (at < bytes.length) {
    const size = Number.isFinite(largest) ? 1 + Math.floor(rand() * largest) : bytes.length;
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

const whole = (bytes: Uint8Array) => chunked(bytes, Math.random, Infinity);

const collect = async <T>(items: AsyncIterable<T>) => {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
};

const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

// --- random inputs -------------------------------------------------------------------------------

const WORDS = ['alpha', 'Zoë', '😀', 'a b', 'x', '', '42', 'é,è', 'tab\there'];

const randomJsonl = (rand: Rand): string => {
  const newline = rand() < 0.5 ? '\n' : '\r\n';
  const lines: string[] = [];
  const count = Math.floor(rand() * 40);
  for (let i = 0; i < count; i++) {
    const roll = rand();
    if (roll < 0.1) lines.push(pick(rand, ['', '  ', '\t', '\r']));
    else if (roll < 0.15) lines.push(`{"broken": ${i}`);
    else lines.push(JSON.stringify({ id: i, word: pick(rand, WORDS), nested: { n: rand() } }));
  }
  const body = lines.join(newline) + (rand() < 0.7 && count > 0 ? newline : '');
  return (rand() < 0.3 ? BOM : '') + body;
};

const randomCell = (rand: Rand): string => {
  const roll = rand();
  if (roll < 0.35)
    return pick(
      rand,
      WORDS.filter((word) => !word.includes(',')),
    );
  if (roll < 0.5) return '""';
  if (roll < 0.65) return `"${pick(rand, WORDS)}, with a comma"`;
  if (roll < 0.75) return `"say ""${pick(rand, WORDS)}"""`;
  if (roll < 0.87) return `"line one\nline two ${pick(rand, WORDS)}"`;
  return `"crlf\r\ninside\r\n"`;
};

const randomCsv = (rand: Rand, withHeader: boolean): string => {
  const newline = rand() < 0.5 ? '\n' : '\r\n';
  const width = 1 + Math.floor(rand() * 4);
  const lines: string[] = [];
  if (withHeader) lines.push(Array.from({ length: width }, (_, i) => `col${i}`).join(','));
  const count = Math.floor(rand() * 40);
  for (let i = 0; i < count; i++) {
    if (rand() < 0.1) lines.push(pick(rand, ['', ' ', '\t ']));
    else lines.push(Array.from({ length: width }, () => randomCell(rand)).join(','));
  }
  const body = lines.join(newline) + (rand() < 0.7 && lines.length > 0 ? newline : '');
  return (rand() < 0.3 ? BOM : '') + body;
};

// --- checks ---------------------------------------------------------------------------------------

interface Case {
  format: RecordFormat;
  bytes: Uint8Array;
  csvHeader: boolean;
}

/** Every record of the object as a whole-object decode sees it (the header row first, if any). */
const decodeWhole = ({ format, bytes }: Case) =>
  collect(decodeRecords(whole(bytes), format, { firstLine: 1 }));

const decodeShards = async ({ format, bytes }: Case, plan: ShardPlan, rand: Rand) => {
  const perShard: DecodedRecord[][] = [];
  for (const shard of plan.shards) {
    const { start, end } = shardBytesToRead(shard);
    const range = bytes.subarray(start, end + 1);
    perShard.push(
      await collect(
        decodeRecords(chunked(range, rand, 1 + rand() * 40), format, { firstLine: shard.firstLine }),
      ),
    );
  }
  return perShard;
};

const expectValidPlan = async (testCase: Case, plan: ShardPlan, maxShards: number, rand: Rand) => {
  const { format, bytes, csvHeader } = testCase;
  const all = await decodeWhole(testCase);
  const spans: RecordSpan[] = await collect(recordSpans(whole(bytes), format));
  const hasHeader = csvHeader && format === 'csv' && spans.length > 0;
  const expected = hasHeader ? all.slice(1) : all;
  const recordEnds = new Set(spans.map((span) => span.end));

  // Counts and limits.
  expect(plan.totalRecords).toBe(expected.length);
  expect(plan.shards.length).toBeLessThanOrEqual(maxShards);
  expect(plan.shards.every((shard) => shard.records >= 1)).toBe(true);
  expect(plan.shards.reduce((sum, shard) => sum + shard.records, 0)).toBe(expected.length);
  expect(plan.shards.map((shard) => shard.index)).toEqual(plan.shards.map((_, i) => i));

  // The header is the first record, and shards follow it.
  if (hasHeader) {
    expect(plan.header).toEqual({ start: spans[0]!.start, end: spans[0]!.end });
    const headerText = Buffer.from(bytes.subarray(plan.header!.start, plan.header!.end)).toString('utf8');
    expect(parseCsvHeader(headerText)).toEqual(all[0]!.ok ? all[0]!.value : undefined);
  } else {
    expect(plan.header).toBeUndefined();
  }

  // Contiguous, from the object's start (or the header's end) to the last record's end.
  const firstStart = hasHeader ? plan.header!.end : 0;
  plan.shards.forEach((shard, i) => {
    expect(shard.start).toBe(i === 0 ? firstStart : plan.shards[i - 1]!.end);
    expect(recordEnds.has(shard.end)).toBe(true);
    expect(shard.end).toBeGreaterThan(shard.start);
  });
  if (expected.length > 0) expect(plan.shards.at(-1)!.end).toBe(spans.at(-1)!.end);

  // Each record in exactly one shard, in order, with the same line and result.
  const perShard = await decodeShards(testCase, plan, rand);
  expect(perShard.map((records) => records.length)).toEqual(plan.shards.map((shard) => shard.records));
  expect(perShard.flat()).toEqual(expected);
};

const TARGETS = [1, 5, 40, 150, 1_000, 1_000_000];
const MAX_SHARDS = [1, 2, 3, 7, 1_000];

describe('splitIntoShards', () => {
  const cases: [string, (rand: Rand) => Case][] = [
    [
      'JSON Lines',
      (rand) => ({ format: 'jsonl', bytes: Buffer.from(randomJsonl(rand)), csvHeader: rand() < 0.5 }),
    ],
    [
      'CSV without a header',
      (rand) => ({ format: 'csv', bytes: Buffer.from(randomCsv(rand, false)), csvHeader: false }),
    ],
    [
      'CSV with a header',
      (rand) => ({ format: 'csv', bytes: Buffer.from(randomCsv(rand, true)), csvHeader: true }),
    ],
  ];

  it.each(cases)(
    'covers every record of random %s files exactly once, in order, for any target and chunking',
    async (_name, generate) => {
      const rand = mulberry32(20240611);
      for (let file = 0; file < 40; file++) {
        const testCase = generate(rand);
        for (const target of TARGETS) {
          const maxShards = pick(rand, MAX_SHARDS);
          const totalBytes = rand() < 0.5 ? testCase.bytes.length : undefined;
          const source = chunked(testCase.bytes, rand, pick(rand, [1, 3, 17, 4096, Infinity]));

          const plan = await splitIntoShards(source, testCase.format, {
            targetShardBytes: target,
            maxShards,
            csvHeader: testCase.csvHeader,
            ...(totalBytes !== undefined && { totalBytes }),
          });

          await expectValidPlan(testCase, plan, maxShards, rand);
        }
      }
    },
  );

  it('closes each shard at the first record boundary at or after the target', async () => {
    const rand = mulberry32(7);
    for (let file = 0; file < 30; file++) {
      const bytes = Buffer.from(randomCsv(rand, false));
      const spans = await collect(recordSpans(whole(bytes), 'csv'));
      const target = pick(rand, [1, 10, 60, 200]);

      const plan = await splitIntoShards(chunked(bytes, rand, 13), 'csv', {
        targetShardBytes: target,
        maxShards: 1_000_000,
        csvHeader: false,
      });

      plan.shards.slice(0, -1).forEach((shard) => {
        const inside = spans.filter((span) => span.start >= shard.start && span.end <= shard.end);
        const beforeLast = inside.at(-2)?.end ?? shard.start;
        expect(shard.end - shard.start).toBeGreaterThanOrEqual(target);
        expect(beforeLast - shard.start).toBeLessThan(target);
      });
    }
  });

  it('grows the target from totalBytes to stay within maxShards', async () => {
    const bytes = Buffer.from(
      Array.from({ length: 100 }, (_, i) => `{"i":${String(i).padStart(3, '0')}}\n`).join(''),
    );

    const plan = await splitIntoShards(whole(bytes), 'jsonl', {
      targetShardBytes: 10,
      maxShards: 4,
      csvHeader: false,
      totalBytes: bytes.length,
    });

    expect(bytes.length).toBe(1000);
    expect(plan.shards.map((shard) => [shard.start, shard.end, shard.records])).toEqual([
      [0, 250, 25],
      [250, 500, 25],
      [500, 750, 25],
      [750, 1000, 25],
    ]);
  });

  it('merges shards to stay within maxShards when the size is not known', async () => {
    const bytes = Buffer.from(
      Array.from({ length: 100 }, (_, i) => `{"i":${String(i).padStart(3, '0')}}\n`).join(''),
    );

    const plan = await splitIntoShards(chunked(bytes, mulberry32(3), 64), 'jsonl', {
      targetShardBytes: 10,
      maxShards: 6,
      csvHeader: false,
    });

    expect(plan.shards.length).toBeLessThanOrEqual(6);
    expect(plan.shards.length).toBeGreaterThanOrEqual(3);
    expect(plan.totalRecords).toBe(100);
    expect(plan.shards.map((shard) => shard.records).reduce((a, b) => a + b)).toBe(100);
  });

  it('gives a shard the line number of its first byte, blank lines included', async () => {
    const bytes = Buffer.from('h1,h2\r\n\r\na,b\r\n\r\n\r\n"c\r\nc",d\r\ne,f');

    const plan = await splitIntoShards(whole(bytes), 'csv', {
      targetShardBytes: 1,
      maxShards: 10,
      csvHeader: true,
    });

    expect(plan).toEqual({
      header: { start: 0, end: 7 },
      totalRecords: 3,
      shards: [
        { index: 0, start: 7, end: 14, firstLine: 2, records: 1 },
        { index: 1, start: 14, end: 28, firstLine: 4, records: 1 },
        { index: 2, start: 28, end: 31, firstLine: 8, records: 1 },
      ],
    });
  });

  it('counts the header of a JSON Lines file as a record: csvHeader is for CSV only', async () => {
    const plan = await splitIntoShards(whole(Buffer.from('{"a":1}\n{"a":2}\n')), 'jsonl', {
      targetShardBytes: 100,
      maxShards: 10,
      csvHeader: true,
    });

    expect(plan).toEqual({
      totalRecords: 2,
      shards: [{ index: 0, start: 0, end: 16, firstLine: 1, records: 2 }],
    });
  });

  it.each([
    ['an empty file', 'jsonl', ''],
    ['blank lines', 'jsonl', '\n  \r\n\t\n'],
    ['a BOM alone', 'jsonl', BOM],
    ['an empty CSV file', 'csv', ''],
    ['blank CSV lines', 'csv', `${BOM}\r\n\r\n`],
  ] as const)('plans no shards for %s', async (_name, format, text) => {
    const plan = await splitIntoShards(whole(Buffer.from(text)), format, {
      targetShardBytes: 10,
      maxShards: 5,
      csvHeader: false,
    });

    expect(plan).toEqual({ shards: [], totalRecords: 0 });
  });

  it('plans no shards for a CSV file that holds only its header', async () => {
    const plan = await splitIntoShards(whole(Buffer.from(`${BOM}a,"b\nc"\r\n\r\n`)), 'csv', {
      targetShardBytes: 10,
      maxShards: 5,
      csvHeader: true,
    });

    expect(plan).toEqual({ shards: [], totalRecords: 0, header: { start: 0, end: 12 } });
  });

  it.each([
    [{ targetShardBytes: 0, maxShards: 1 }],
    [{ targetShardBytes: 10, maxShards: 0 }],
    [{ targetShardBytes: 1.5, maxShards: 2 }],
    [{ targetShardBytes: 10, maxShards: 2, totalBytes: -1 }],
  ])('refuses options %j', async (options) => {
    const planning = splitIntoShards(whole(Buffer.from('a\n')), 'csv', { csvHeader: false, ...options });

    await expect(planning).rejects.toThrow(InvalidInput);
  });
});

describe('shardBytesToRead', () => {
  it('gives the inclusive range S3 GetObject reads', () => {
    const range = shardBytesToRead({ index: 3, start: 100, end: 250, firstLine: 9, records: 4 });

    expect(range).toEqual({ start: 100, end: 249 });
  });
});
