import fc from 'fast-check';
import { Readable } from 'node:stream';
import { recordSpans } from '../../lib/records/boundaries';
import { decodeRecords } from '../../lib/records/decode';
import type { RecordFormat } from '../../lib/records/formats';
import { alignedRangeOf, recordBoundaryAtOrAfter } from '../../lib/records/record-boundary';
import type { BoundaryOptions, ReadBytes } from '../../lib/records/record-boundary';
import { cutIntoShards } from '../../lib/records/shard-cuts';
import { fuzzParameters } from '../support/fuzz/settings';

/** Ranged reads of a buffer in 5-byte chunks, counting the bytes served. */
const readerOf = (body: Buffer) => {
  const served = { bytes: 0, requests: 0 };
  const read: ReadBytes = async (start, end) => {
    served.requests++;
    const range = body.subarray(start, end);
    served.bytes += range.length;
    const chunks: Buffer[] = [];
    for (let at = 0; at < range.length; at += 5) chunks.push(range.subarray(at, at + 5));
    return Readable.from(chunks);
  };
  return { read, served };
};

/** Every offset where a line starts, as the scanner sees them: 0, and after each newline outside quotes. */
const lineStartsOf = async (body: Buffer, format: RecordFormat): Promise<number[]> => {
  const starts = new Set<number>([0]);
  let inQuotes = false;
  body.forEach((byte, i) => {
    if (format === 'csv' && byte === 0x22) inQuotes = !inQuotes;
    else if (byte === 0x0a && !inQuotes) starts.add(i + 1);
  });
  starts.add(body.length);
  return [...starts].sort((a, b) => a - b);
};

const expectedBoundary = (starts: number[], cut: number) => starts.find((start) => start >= cut)!;

/** Well-formed CSV rows whose quoted fields hold newlines, commas and `""` escapes. */
const csvRow = fc
  .array(
    fc.oneof(
      fc.stringMatching(/^[a-z0-9 ]{0,6}$/),
      fc
        .array(fc.constantFrom('a', '\n', '\r\n', ',', '""', 'x y', '\n\n'), { maxLength: 6 })
        .map((parts) => `"${parts.join('')}"`),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((cells) => `${cells.join(',')}\n`);

const options = (
  format: RecordFormat,
  body: Buffer,
  extra: Partial<BoundaryOptions> = {},
): BoundaryOptions => ({
  format,
  size: body.length,
  speculationWindows: [16, 64],
  ...extra,
});

describe('recordBoundaryAtOrAfter', () => {
  it('finds the next line start after any cut of a JSON Lines file', async () => {
    const body = Buffer.from('{"a":1}\n\n{"b":22}\r\n   \n{"c":333}');
    const starts = await lineStartsOf(body, 'jsonl');
    const { read } = readerOf(body);
    for (let cut = 0; cut <= body.length; cut++) {
      expect(await recordBoundaryAtOrAfter(read, cut, options('jsonl', body))).toBe(
        expectedBoundary(starts, cut),
      );
    }
  });

  it('finds the true record start after every cut of a CSV file whose quoted fields hold newlines', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(csvRow, { minLength: 1, maxLength: 30 }), async (rows) => {
        const body = Buffer.from(`id,text\n${rows.join('')}`);
        const starts = await lineStartsOf(body, 'csv');
        const { read } = readerOf(body);
        for (let cut = 0; cut <= body.length; cut++) {
          expect(await recordBoundaryAtOrAfter(read, cut, options('csv', body))).toBe(
            expectedBoundary(starts, cut),
          );
        }
      }),
      fuzzParameters(40),
    );
  });

  it('decides a cut inside a quoted field by speculation, reading only a window after it', async () => {
    const row = `1,"first line\nsecond, line\nthird ""quoted"" line"\n`;
    const body = Buffer.from(`id,text\n${row.repeat(200)}`);
    const cut = body.indexOf('second', 5000);
    const { read, served } = readerOf(body);
    let fellBack = false;

    const boundary = await recordBoundaryAtOrAfter(read, cut, {
      ...options('csv', body),
      onExactFallback: () => (fellBack = true),
    });

    expect(boundary).toBe(body.indexOf('\n1,', cut) + 1);
    expect(fellBack).toBe(false);
    expect(served.bytes).toBeLessThan(1000);
  });

  it('counts quotes from the start when no window can tell, and is still exact', async () => {
    // A quoted field longer than every window, without a quote in it: both readings parse.
    const body = Buffer.from(`id,text\n1,"${'lorem ipsum\n'.repeat(50)}"\n2,after\n`);
    const cut = 200;
    const { read } = readerOf(body);
    const cuts: number[] = [];

    const boundary = await recordBoundaryAtOrAfter(read, cut, {
      ...options('csv', body),
      onExactFallback: (at) => cuts.push(at),
    });

    expect(boundary).toBe(body.indexOf('2,after'));
    expect(cuts).toEqual([cut - 1]);
  });
});

/** Every record of the shards' aligned ranges, decoded, in order. */
const recordsOfShards = async (body: Buffer, format: RecordFormat, shardBytes: number) => {
  const { read } = readerOf(body);
  const cuts = cutIntoShards([{ start: 0, end: body.length }], {
    targetShardBytes: shardBytes,
    maxShards: 10_000,
  });
  const records: string[] = [];
  const ranges: { start: number; end: number }[] = [];
  const fallbacks: number[] = [];
  for (const cut of cuts) {
    const range = await alignedRangeOf(
      read,
      { ...cut, startsAtRecord: cut.first },
      options(format, body, { onExactFallback: (at) => fallbacks.push(at) }),
    );
    ranges.push(range);
    const source = Readable.from([body.subarray(range.start, range.end)]);
    for await (const record of decodeRecords(source, format, {
      firstLine: 1,
      atObjectStart: range.start === 0,
    })) {
      records.push(record.raw);
    }
  }
  return { records, ranges, cuts, fallbacks };
};

describe('shards aligned by their workers', () => {
  it('read every CSV record exactly once when a quoted newline sits on every cut', async () => {
    // 80 shards of 250 bytes: each row holds one cut inside its quoted field, with a quoted
    // newline just before the cut (odd cuts) or just at it (even cuts), so that every cut looks
    // like a record boundary to a reader that ignores quotes.
    const size = 20_000;
    let body = '';
    for (let cut = 250; cut < size; cut += 250) {
      const newlineAt = (cut / 250) % 2 === 1 ? cut - 1 : cut;
      const opening = `${cut},"`;
      body += `${opening}${'a'.repeat(newlineAt - body.length - opening.length)}\n${'b'.repeat(20)}"\n`;
    }
    body += `last,"${'y'.repeat(size - body.length - 8)}"\n`;
    const bytes = Buffer.from(body);
    expect(bytes).toHaveLength(size);

    const { records, cuts, fallbacks } = await recordsOfShards(bytes, 'csv', 250);

    const expected: string[] = [];
    for await (const span of recordSpans(Readable.from([bytes]), 'csv')) {
      expected.push(bytes.subarray(span.start, span.end).toString().replace(/\n$/, ''));
    }
    expect(records).toEqual(expected);
    expect(records).toHaveLength(80);
    const inner = cuts.slice(1).map((cut) => cut.start);
    expect(inner).toEqual(Array.from({ length: 79 }, (_, i) => 250 * (i + 1)));
    expect(inner.every((cut) => bytes[cut - 1] === 0x0a || bytes[cut] === 0x0a)).toBe(true);
    // Speculation decided every cut: no quotes were counted from the start.
    expect(fallbacks).toEqual([]);
  });

  it('read every JSON Lines record exactly once, whatever the cuts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.json({ maxDepth: 1 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 64 }),
        async (values, shardBytes) => {
          const body = Buffer.from(values.map((value) => `${value}\n`).join(''));
          const { records } = await recordsOfShards(body, 'jsonl', shardBytes);
          expect(records).toEqual(values.filter((value) => value.trim() !== ''));
        },
      ),
      fuzzParameters(50),
    );
  });
});
