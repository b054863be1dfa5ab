import { InvalidInput } from '../../lib/errors';
import { decodeRecords, parseCsvHeader } from '../../lib/records/decode';
import type { DecodeOptions, DecodedRecord } from '../../lib/records/decode';
import { contentTypeOf, formatOf } from '../../lib/records/formats';
import type { RecordFormat } from '../../lib/records/formats';

const BOM = '\uFEFF';

async function* chunked(bytes: Uint8Array, size = Infinity): AsyncGenerator<Uint8Array> {
  if (!Number.isFinite(size)) {
    yield bytes;
    return;
  }
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

const decode = async (
  input: string | Uint8Array,
  format: RecordFormat,
  options: Partial<DecodeOptions> & { chunkSize?: number } = {},
) => {
  const { chunkSize, ...rest } = options;
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  const records: DecodedRecord[] = [];
  for await (const record of decodeRecords(chunked(bytes, chunkSize), format, { firstLine: 1, ...rest })) {
    records.push(record);
  }
  return records;
};

const valuesOf = (records: DecodedRecord[]) =>
  records.map((record) => (record.ok ? record.value : record.error.code));

const errorOf = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
};

const bytesOf = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));

describe('decodeRecords', () => {
  describe('for JSON Lines', () => {
    it('parses each line and gives its text without the newline', async () => {
      const records = await decode('{"a":1}\r\n[2,"x"]\n"text"', 'jsonl');

      expect(records).toEqual([
        { line: 1, raw: '{"a":1}', ok: true, value: { a: 1 } },
        { line: 2, raw: '[2,"x"]', ok: true, value: [2, 'x'] },
        { line: 3, raw: '"text"', ok: true, value: 'text' },
      ]);
    });

    it('reports a malformed line and goes on with the next', async () => {
      const records = await decode('{"a":1}\n{"a":\n\n{"a":3}\n', 'jsonl');

      expect(records[1]).toMatchObject({
        line: 2,
        raw: '{"a":',
        ok: false,
        error: { code: 'MALFORMED_JSON' },
      });
      expect(records[1]?.ok === false && records[1].error.message).toMatch(/^Line 2: /);
      expect(valuesOf(records)).toEqual([{ a: 1 }, 'MALFORMED_JSON', { a: 3 }]);
      expect(records.map((record) => record.line)).toEqual([1, 2, 4]);
    });

    it('drops a BOM at the start of the object', async () => {
      const records = await decode(`${BOM}{"a":1}\n`, 'jsonl', { chunkSize: 1 });

      expect(records).toEqual([{ line: 1, raw: '{"a":1}', ok: true, value: { a: 1 } }]);
    });

    it('keeps a BOM when the range does not start the object', async () => {
      const records = await decode(`${BOM}{"a":1}\n`, 'jsonl', { firstLine: 5 });

      expect(records).toMatchObject([
        { line: 5, raw: `${BOM}{"a":1}`, ok: false, error: { code: 'MALFORMED_JSON' } },
      ]);
    });

    it('follows atObjectStart when it is given', async () => {
      const records = await decode(`${BOM}{"a":1}\n`, 'jsonl', { firstLine: 1, atObjectStart: false });

      expect(valuesOf(records)).toEqual(['MALFORMED_JSON']);
    });

    it('numbers lines from firstLine', async () => {
      const records = await decode('\n{"a":1}\n', 'jsonl', { firstLine: 41 });

      expect(records.map((record) => record.line)).toEqual([42]);
    });
  });

  describe('for CSV', () => {
    it.each([
      ['plain cells', 'a,b,c', ['a', 'b', 'c']],
      ['empty cells', 'a,,', ['a', '', '']],
      ['one empty quoted cell', '""', ['']],
      ['a quoted comma', '"a,b",c', ['a,b', 'c']],
      ['escaped quotes', '"say ""hi""",""""', ['say "hi"', '"']],
      ['spaces kept as they are', ' a , b ', [' a ', ' b ']],
      ['a bare CR inside a cell', 'a\rb,c', ['a\rb', 'c']],
      ['multi-byte characters', 'Zoë,😀', ['Zoë', '😀']],
    ])('reads %s', async (_name, row, cells) => {
      const records = await decode(`${row}\r\n`, 'csv');

      expect(records).toEqual([{ line: 1, raw: row, ok: true, value: cells }]);
    });

    it('keeps LF and CRLF inside quoted cells and numbers the next record after them', async () => {
      const records = await decode('1,"two\nlines"\r\n2,"crlf\r\ninside"\r\n3,end', 'csv', { chunkSize: 2 });

      expect(records).toEqual([
        { line: 1, raw: '1,"two\nlines"', ok: true, value: ['1', 'two\nlines'] },
        { line: 3, raw: '2,"crlf\r\ninside"', ok: true, value: ['2', 'crlf\r\ninside'] },
        { line: 5, raw: '3,end', ok: true, value: ['3', 'end'] },
      ]);
    });

    it.each([
      ['a quote inside an unquoted cell', 'ab"c",d\n', /Quote inside an unquoted field at column 3/],
      ['text after a closing quote', '"ab"c,d\n', /after the closing quote at column 5/],
      ['an unterminated quote', 'a,"open\nb,c\n', /Quoted field at column 3 is never closed/],
    ])('reports %s as MALFORMED_CSV', async (_name, text, message) => {
      const [record] = await decode(text, 'csv');

      expect(record).toMatchObject({ line: 1, ok: false, error: { code: 'MALFORMED_CSV' } });
      expect(record?.ok === false && record.error.message).toMatch(message);
    });

    it('drops a BOM at the start of the object', async () => {
      const records = await decode(`${BOM}a,b\n`, 'csv');

      expect(valuesOf(records)).toEqual([['a', 'b']]);
    });

    it('skips whitespace-only lines', async () => {
      const records = await decode('a\n \t\r\n\nb\n', 'csv');

      expect(records.map((record) => [record.line, record.raw])).toEqual([
        [1, 'a'],
        [4, 'b'],
      ]);
    });
  });

  describe('with invalid UTF-8', () => {
    it.each([
      ['a stray continuation byte', [0x80]],
      ['a truncated sequence', [0xe2, 0x82]],
      ['an overlong encoding', [0xc0, 0xaf]],
      ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ])('reports %s as INVALID_ENCODING and goes on', async (_name, bad) => {
      const bytes = bytesOf('{"a":"', bad, '"}\n{"a":"ok"}\n');

      const records = await decode(bytes, 'jsonl', { chunkSize: 1 });

      expect(records[0]).toMatchObject({ line: 1, ok: false, error: { code: 'INVALID_ENCODING' } });
      expect(records[0]?.raw).toContain('\uFFFD');
      expect(records[1]).toEqual({ line: 2, raw: '{"a":"ok"}', ok: true, value: { a: 'ok' } });
    });

    it('decodes characters split across chunks', async () => {
      const records = await decode('"😀é",x\n', 'csv', { chunkSize: 1 });

      expect(valuesOf(records)).toEqual([['😀é', 'x']]);
    });
  });

  describe('with a record cap', () => {
    it('accepts a record whose bytes, newline included, are at the cap', async () => {
      const records = await decode('{"a":"123456"}\n', 'jsonl', { maxRecordBytes: 15 });

      expect(valuesOf(records)).toEqual([{ a: '123456' }]);
    });

    it.each([
      ['in one chunk', Infinity],
      ['across chunks', 3],
    ])('reports a longer record as RECORD_TOO_LARGE %s and goes on', async (_name, chunkSize) => {
      const long = `{"a":"${'x'.repeat(100)}"}`;

      const records = await decode(`{"a":1}\n${long}\n{"a":2}\n`, 'jsonl', { maxRecordBytes: 40, chunkSize });

      expect(valuesOf(records)).toEqual([{ a: 1 }, 'RECORD_TOO_LARGE', { a: 2 }]);
      expect(records[1]).toMatchObject({ line: 2, raw: long });
      expect(records.map((record) => record.line)).toEqual([1, 2, 3]);
    });

    it('keeps only the first KiB of a huge record', async () => {
      const huge = `"${'y'.repeat(300_000)}\n${'z'.repeat(300_000)}",end`;

      const records = await decode(`${huge}\nnext,row\n`, 'csv', { maxRecordBytes: 4096, chunkSize: 1000 });

      expect(records[0]).toMatchObject({ line: 1, ok: false, error: { code: 'RECORD_TOO_LARGE' } });
      expect(records[0]?.raw).toBe(huge.slice(0, 1024));
      expect(records[1]).toEqual({ line: 3, raw: 'next,row', ok: true, value: ['next', 'row'] });
    });

    it('does not count blank lines towards the cap', async () => {
      const records = await decode(`${' '.repeat(100)}\n{"a":1}\n`, 'jsonl', {
        maxRecordBytes: 10,
        chunkSize: 7,
      });

      expect(records).toEqual([{ line: 2, raw: '{"a":1}', ok: true, value: { a: 1 } }]);
    });
  });
});

describe('parseCsvHeader', () => {
  it('reads the column names, without a BOM or the newline', () => {
    expect(parseCsvHeader(`${BOM}id,"full name",age\r\n`)).toEqual(['id', 'full name', 'age']);
  });

  it('refuses a malformed header', () => {
    const error = errorOf(() => parseCsvHeader('id,"name\n'));

    expect(error).toBeInstanceOf(InvalidInput);
    expect(error).toMatchObject({ code: 'MALFORMED_CSV' });
  });
});

describe('formatOf', () => {
  it.each([
    ['text/csv', 'in/data.bin', 'csv'],
    ['application/csv', 'in/data', 'csv'],
    ['text/csv; charset=utf-8', 'in/data.jsonl', 'csv'],
    ['application/jsonlines', 'in/data.csv', 'jsonl'],
    ['application/x-ndjson', 'in/data', 'jsonl'],
    ['Application/JSONL', 'in/data', 'jsonl'],
    ['application/json-lines;charset=UTF-8', 'in/data', 'jsonl'],
    [undefined, 'in/data.CSV', 'csv'],
    ['application/octet-stream', 'in/data.jsonl', 'jsonl'],
    ['binary/octet-stream', 'in/data.ndjson', 'jsonl'],
    ['application/json', 'in/data.json', 'jsonl'],
    [undefined, 'in/v1.2/Data.JsonL', 'jsonl'],
  ])('reads %s %s as %s', (contentType, key, format) => {
    expect(formatOf(contentType, key)).toBe(format);
  });

  it.each([
    ['application/x-ndjson', 'in/data.jsonl.gz'],
    [undefined, 'in/data.csv.GZ'],
    ['application/gzip', 'in/data.csv'],
    [undefined, 'in/data.parquet'],
    ['application/octet-stream', 'in/data'],
    [undefined, 'in/data.csv/part'],
  ])('refuses %s %s as UNSUPPORTED_FORMAT', (contentType, key) => {
    const error = errorOf(() => formatOf(contentType, key));

    expect(error).toBeInstanceOf(InvalidInput);
    expect(error).toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
    expect((error as Error).message).toMatch(/text\/csv.*application\/x-ndjson.*\.csv.*\.jsonl.*\.ndjson/);
  });
});

describe('contentTypeOf', () => {
  it('names the content type of each format', () => {
    expect(contentTypeOf('csv')).toBe('text/csv');
    expect(contentTypeOf('jsonl')).toBe('application/x-ndjson');
  });
});
