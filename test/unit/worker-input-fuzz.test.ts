import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageDecodeError, decodeImage } from '../../gpu-container/src/images/images';
import { decodeRecords } from '../../lib/records/decode';
import type { DecodedRecord } from '../../lib/records/decode';
import type { RecordFormat } from '../../lib/records/formats';
import { fuzzParameters } from '../support/fuzz/settings';
import { handMadePng } from '../support/png-files';

const chunksOf = async function* (bytes: Uint8Array, sizes: number[]) {
  let at = 0;
  for (const size of sizes) {
    if (at >= bytes.length) break;
    yield bytes.subarray(at, at + size);
    at += size;
  }
  if (at < bytes.length) yield bytes.subarray(at);
};

const decodeAll = async (
  bytes: Uint8Array,
  format: RecordFormat,
  sizes: number[],
  maxRecordBytes?: number,
) => {
  const records: DecodedRecord[] = [];
  for await (const record of decodeRecords(chunksOf(bytes, sizes), format, {
    firstLine: 1,
    ...(maxRecordBytes ? { maxRecordBytes } : {}),
  }))
    records.push(record);
  return records;
};

const utf8 = (text: string) => new TextEncoder().encode(text);

/** Pieces hostile input is made of: odd bytes, odd text, and what CSV and JSON give meaning to. */
const piece = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 32 }).map(utf8),
  fc
    .constantFrom(
      '\n',
      '\r\n',
      '\r',
      '"',
      '""',
      ',',
      '\u0000',
      '\uFEFF',
      '{"a":',
      '}',
      '[',
      '"\n"',
      '\\',
      '\uD800',
      '\uDFFF',
    )
    .map(utf8),
  fc
    .constantFrom([0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xff], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80])
    .map((bytes) => new Uint8Array(bytes)),
);

const hostileBytes = fc
  .array(piece, { maxLength: 40 })
  .map((parts) => new Uint8Array(parts.flatMap((part) => [...part])));

const chunkSizes = fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 20 });

describe('the record decoders under hostile bytes', () => {
  it.each(['jsonl', 'csv'] as const)(
    'decode any bytes as %s into records that each hold a value or a failure with a code',
    async (format) => {
      await fc.assert(
        fc.asyncProperty(hostileBytes, chunkSizes, async (bytes, sizes) => {
          const whole = await decodeAll(bytes, format, []);
          const chunked = await decodeAll(bytes, format, sizes);

          const failureCodes = whole.flatMap((record) => (record.ok ? [] : [record.error.code]));

          expect(chunked).toEqual(whole);
          expect(whole.every((record) => Number.isInteger(record.line))).toBe(true);
          expect(failureCodes.filter((code) => !/^[A-Z_]+$/.test(code))).toEqual([]);
        }),
        fuzzParameters(300),
      );
    },
  );

  it.each([
    [
      'a 1 MB JSON string',
      'jsonl',
      `{"a":"${'\u00e9'.repeat(512 * 1024)}"}\n{"a":1}\n`,
      ['RECORD_TOO_LARGE', 'ok'],
    ],
    ['a 1 MB quoted CSV field', 'csv', `"${'x'.repeat(1024 * 1024)}",1\na,b\n`, ['RECORD_TOO_LARGE', 'ok']],
    ['an unbalanced quote, which runs to the end', 'csv', `a,"b\nc,d\n`, ['MALFORMED_CSV']],
    ['a raw NUL byte in a JSON string', 'jsonl', '{"a":"\u0000"}\n{"a":1}\n', ['MALFORMED_JSON', 'ok']],
  ] as const)('reports %s as a failure with a code and goes on', async (_, format, text, outcomes) => {
    const records = await decodeAll(utf8(text), format, [65_536], 256 * 1024);

    expect(records.map((record) => (record.ok ? 'ok' : record.error.code))).toEqual(outcomes);
  });

  it.each(['jsonl', 'csv'] as const)(
    'reports a lone surrogate (ED A0 80) in %s as INVALID_ENCODING',
    async (format) => {
      const bytes = new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22, 0x0a, ...utf8('"ok"\n')]);

      const records = await decodeAll(bytes, format, [2]);

      expect(records.map((record) => (record.ok ? 'ok' : record.error.code))).toEqual([
        'INVALID_ENCODING',
        'ok',
      ]);
    },
  );
});

const fixture = readFileSync(join(__dirname, '../fixtures/images/order-upright.png'));

/** A JPEG start-of-frame header claiming `width × height`, then junk. */
const jpegClaiming = (width: number, height: number, junk: Uint8Array) =>
  Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08]),
    Buffer.from([height >> 8, height & 0xff, width >> 8, width & 0xff, 0x03]),
    Buffer.from(junk),
  ]);

const dimension = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(65_535, 2 ** 31 - 1, 2 ** 32 - 1));

const hostileImages = fc.oneof(
  fc.integer({ min: 0, max: fixture.length - 1 }).map((length) => fixture.subarray(0, length)),
  fc
    .uint8Array({ maxLength: 256 })
    .map((bytes) => Buffer.concat([fixture.subarray(0, 8), Buffer.from(bytes)])),
  fc
    .tuple(fc.integer({ min: 0, max: fixture.length - 1 }), fc.integer({ min: 0, max: 255 }))
    .map(([at, byte]) => {
      const flipped = Buffer.from(fixture);
      flipped[at] = byte;
      return flipped;
    }),
  fc
    .record({
      width: dimension,
      height: dimension,
      bitDepth: fc.constantFrom(1, 2, 4, 8, 16, 3, 0, 255),
      colorType: fc.constantFrom(0, 2, 3, 4, 6, 1, 7),
      interlace: fc.constantFrom(0, 1, 2),
      rows: fc.uint8Array({ maxLength: 64 }),
    })
    .map(({ rows, ...header }) => handMadePng(header, Buffer.from(rows))),
  fc
    .tuple(dimension, dimension, fc.uint8Array({ maxLength: 64 }))
    .map(([width, height, junk]) => jpegClaiming(width & 0xffff, height & 0xffff, junk)),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
);

/** 'decoded' (with all its pixels), the decode error's code, or how it crashed. */
const outcomeOf = async (bytes: Buffer): Promise<string> => {
  try {
    const image = await decodeImage(bytes, { height: 48, width: 192 });
    return image.pixels.length >= image.width * image.height ? 'decoded' : 'decoded without its pixels';
  } catch (error) {
    return error instanceof ImageDecodeError ? error.code : `crashed: ${String(error)}`;
  }
};

describe('decodeImage under hostile payloads', () => {
  it('decodes an image or throws ImageDecodeError (INVALID_IMAGE, OBJECT_TOO_LARGE), whatever the bytes', async () => {
    await fc.assert(
      fc.asyncProperty(hostileImages, async (bytes) => {
        expect(['decoded', 'INVALID_IMAGE', 'OBJECT_TOO_LARGE']).toContain(await outcomeOf(bytes));
      }),
      fuzzParameters(300),
    );
  });
});
