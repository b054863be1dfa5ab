import { countRecordSpans, recordSpans } from '../../lib/records/boundaries';
import type { RecordSpan } from '../../lib/records/boundaries';
import type { RecordFormat } from '../../lib/records/formats';
import { mulberry32 } from '../../lib/seeded-random';

const BOM = '\uFEFF';

/** Yields `bytes` cut at the given sizes (the last piece takes the rest). */
async function* chunked(bytes: Uint8Array, sizes: Iterable<number> = []): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const size of sizes) {
    if (at >= bytes.length) break;
    yield bytes.subarray(at, at + size);
    at += size;
  }
  if (at < bytes.length || bytes.length === 0) yield bytes.subarray(at);
}

const spansOf = async (
  text: string | Uint8Array,
  format: RecordFormat,
  sizes?: Iterable<number>,
  options?: { startOffset?: number; startLine?: number },
) => {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const spans: RecordSpan[] = [];
  for await (const span of recordSpans(chunked(bytes, sizes), format, options)) spans.push(span);
  return spans;
};

/** The text of each span, to read assertions as records rather than offsets. */
const textsOf = (text: string, spans: RecordSpan[]) => {
  const bytes = Buffer.from(text);
  return spans.map((span) => bytes.subarray(span.start, span.end).toString('utf8'));
};

const ones = function* () {
  for (;;) yield 1;
};

const randomSizes = function* (seed: number, largest: number) {
  const rand = mulberry32(seed);
  for (;;) yield 1 + Math.floor(rand() * largest);
};

describe('recordSpans', () => {
  describe('for JSON Lines', () => {
    it('gives each line its bytes including the newline and its line number', async () => {
      const spans = await spansOf('{"a":1}\n{"b":2}\n', 'jsonl');

      expect(spans).toEqual([
        { start: 0, end: 8, line: 1 },
        { start: 8, end: 16, line: 2 },
      ]);
    });

    it('keeps the CR of a CRLF inside the span', async () => {
      const spans = await spansOf('{"a":1}\r\n{"b":2}\r\n', 'jsonl');

      expect(spans).toEqual([
        { start: 0, end: 9, line: 1 },
        { start: 9, end: 18, line: 2 },
      ]);
    });

    it('reports a last line that lacks a newline', async () => {
      const spans = await spansOf('{"a":1}\n{"b":2}', 'jsonl');

      expect(spans).toEqual([
        { start: 0, end: 8, line: 1 },
        { start: 8, end: 15, line: 2 },
      ]);
    });

    it('skips empty and whitespace-only lines but counts them', async () => {
      const text = '\n{"a":1}\n  \n\r\n\t \r\n{"b":2}\n\n';

      const spans = await spansOf(text, 'jsonl');

      expect(spans.map((span) => span.line)).toEqual([2, 6]);
      expect(textsOf(text, spans)).toEqual(['{"a":1}\n', '{"b":2}\n']);
    });

    it('keeps leading spaces of a record inside its span', async () => {
      const text = '  {"a":1}\n';

      const spans = await spansOf(text, 'jsonl');

      expect(spans).toEqual([{ start: 0, end: 10, line: 1 }]);
    });

    it('counts bytes, not characters, for multi-byte UTF-8', async () => {
      const spans = await spansOf('{"name":"Zoë 😀"}\n{"b":2}\n', 'jsonl');

      expect(spans).toEqual([
        { start: 0, end: 21, line: 1 },
        { start: 21, end: 29, line: 2 },
      ]);
    });

    it('finds no records in an empty object or one of blank lines', async () => {
      await expect(spansOf('', 'jsonl')).resolves.toEqual([]);
      await expect(spansOf('\n \n\r\n\t', 'jsonl')).resolves.toEqual([]);
    });
  });

  describe('with a byte order mark', () => {
    it('puts a leading BOM inside the first record', async () => {
      const spans = await spansOf(`${BOM}{"a":1}\n{"b":2}\n`, 'jsonl');

      expect(spans).toEqual([
        { start: 0, end: 11, line: 1 },
        { start: 11, end: 19, line: 2 },
      ]);
    });

    it('does not make a record of a BOM alone or a BOM on a blank line', async () => {
      await expect(spansOf(BOM, 'jsonl')).resolves.toEqual([]);
      await expect(spansOf(`${BOM}\r\n`, 'csv')).resolves.toEqual([]);
      await expect(spansOf(`${BOM}  \n{"a":1}\n`, 'jsonl')).resolves.toEqual([
        { start: 6, end: 14, line: 2 },
      ]);
    });

    it('treats part of a BOM as content', async () => {
      const spans = await spansOf(Uint8Array.from([0xef, 0xbb, 0x0a]), 'jsonl');

      expect(spans).toEqual([{ start: 0, end: 3, line: 1 }]);
    });

    it('treats a BOM as content when the range does not start the object', async () => {
      const spans = await spansOf(`${BOM}\n`, 'jsonl', undefined, { startOffset: 10, startLine: 4 });

      expect(spans).toEqual([{ start: 10, end: 14, line: 4 }]);
    });
  });

  describe('for CSV', () => {
    it('ends a record at a newline outside quotes only', async () => {
      const text = 'id,note\n1,"line one\nline two"\n2,plain\n';

      const spans = await spansOf(text, 'csv');

      expect(textsOf(text, spans)).toEqual(['id,note\n', '1,"line one\nline two"\n', '2,plain\n']);
      expect(spans.map((span) => span.line)).toEqual([1, 2, 4]);
    });

    it('keeps quoted CRLFs, commas and escaped quotes inside one record', async () => {
      const text = 'a,b\r\n"x, ""y""\r\nz",2\r\n"",3\r\n';

      const spans = await spansOf(text, 'csv');

      expect(textsOf(text, spans)).toEqual(['a,b\r\n', '"x, ""y""\r\nz",2\r\n', '"",3\r\n']);
      expect(spans.map((span) => span.line)).toEqual([1, 2, 4]);
    });

    it('treats a row of one empty quoted field as a record, not a blank line', async () => {
      const spans = await spansOf('""\n\n', 'csv');

      expect(spans).toEqual([{ start: 0, end: 3, line: 1 }]);
    });

    it('skips blank lines between rows and counts them', async () => {
      const text = 'a\n\n  \r\nb\r\n\r\n';

      const spans = await spansOf(text, 'csv');

      expect(spans).toEqual([
        { start: 0, end: 2, line: 1 },
        { start: 7, end: 10, line: 4 },
      ]);
    });

    it('runs an unterminated quote to the end of the object as one last record', async () => {
      const text = 'a,b\n1,"open\n2,x\n3,y\n';

      const spans = await spansOf(text, 'csv');

      expect(spans).toEqual([
        { start: 0, end: 4, line: 1 },
        { start: 4, end: text.length, line: 2 },
      ]);
    });

    it('reports a last row that lacks a newline, quoted or not', async () => {
      await expect(spansOf('a\nb', 'csv')).resolves.toEqual([
        { start: 0, end: 2, line: 1 },
        { start: 2, end: 3, line: 2 },
      ]);
      await expect(spansOf('a\n"b\nc"', 'csv')).resolves.toEqual([
        { start: 0, end: 2, line: 1 },
        { start: 2, end: 7, line: 2 },
      ]);
    });
  });

  describe('for a range of the object', () => {
    it('reports offsets and lines relative to the object', async () => {
      const spans = await spansOf('x,1\n\n"y\nz",2\n', 'csv', undefined, { startOffset: 100, startLine: 7 });

      expect(spans).toEqual([
        { start: 100, end: 104, line: 7 },
        { start: 105, end: 113, line: 9 },
      ]);
    });
  });

  describe('whatever the chunking', () => {
    const samples: [RecordFormat, string][] = [
      ['jsonl', `${BOM}{"a":"é"}\r\n\r\n  \n{"b":"😀"}\n{"c":[1,2]}`],
      ['jsonl', '\n\n{"a":1}\r\n\t\r\n{"a":2}\r\n'],
      ['csv', `${BOM}id,note\r\n1,"a ""quoted"", \r\nmulti-line note"\r\n\r\n2,Zoë 😀\n3,"x\ny\n"\n4,`],
      ['csv', '"",""\n \n"a,b","c\r\n"\r\n"unterminated,\r\n5,6\r\n'],
      ['csv', 'a,b\nc,d'],
    ];

    it.each(samples)(
      'gives the same %s spans for 1-byte, random and single chunks (%#)',
      async (format, text) => {
        const whole = await spansOf(text, format);

        const byByte = await spansOf(text, format, ones());
        const byRandom = await Promise.all(
          [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => spansOf(text, format, randomSizes(seed, 7))),
        );

        expect(whole.length).toBeGreaterThan(0);
        expect(byByte).toEqual(whole);
        for (const spans of byRandom) expect(spans).toEqual(whole);
      },
    );

    it('ignores empty chunks', async () => {
      const text = 'a\n"b\nc"\n';

      const spans = await spansOf(text, 'csv', [0, 1, 0, 0, 3, 0, 2, 0]);

      expect(spans).toEqual([
        { start: 0, end: 2, line: 1 },
        { start: 2, end: 8, line: 2 },
      ]);
    });
  });

  it('refuses a source that yields strings', async () => {
    async function* strings() {
      yield 'a\n';
    }
    const source = strings() as unknown as AsyncIterable<Uint8Array>;

    await expect(recordSpans(source, 'jsonl').next()).rejects.toThrow(TypeError);
  });
});

describe('countRecordSpans', () => {
  it('counts what recordSpans yields from an offset on, however the bytes are chunked', async () => {
    const random = mulberry32(21);
    const pieces = ['a,b\n', '"x\ny",1\n', '\n', '  \r\n', '"q ""z""",2\r\n', '{"k": 1}\n', 'tail'];
    for (let round = 0; round < 200; round++) {
      const text = Array.from(
        { length: 1 + Math.floor(random() * 30) },
        () => pieces[Math.floor(random() * pieces.length)],
      ).join('');
      const format: RecordFormat = random() < 0.5 ? 'csv' : 'jsonl';
      const spans = await spansOf(text, format);
      const from = spans[Math.floor(random() * (spans.length + 1))]?.start ?? Buffer.byteLength(text);

      const counted = await countRecordSpans(chunked(Buffer.from(text), randomSizes(round, 9)), format, from);

      expect(counted).toBe(spans.filter((span) => span.start >= from).length);
    }
  });
});
