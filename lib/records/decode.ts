import { InvalidInput } from '../errors';
import { parseCsvCells } from './csv';
import type { RecordFormat } from './formats';
import { RecordScanner, bytesOf } from './scanner';

export type DecodeErrorCode = 'MALFORMED_JSON' | 'MALFORMED_CSV' | 'INVALID_ENCODING' | 'RECORD_TOO_LARGE';

/**
 * One record: its line number (as `recordSpans` counts), its text without the trailing newline,
 * and either its value (a JSON value, or a CSV row as an array of cell strings) or why it has none.
 */
export type DecodedRecord = { line: number; raw: string } & (
  { ok: true; value: unknown } | { ok: false; error: { code: DecodeErrorCode; message: string } }
);

export interface DecodeOptions {
  /** Line number of the source's first byte: `ShardRange.firstLine`, or 1 for a whole object. */
  firstLine: number;
  /** The source starts at the object's first byte, so a leading BOM is dropped (default: firstLine === 1). */
  atObjectStart?: boolean;
  /**
   * A record of more bytes than this (its newline included) is reported as RECORD_TOO_LARGE, with
   * only its first KiB in `raw`, rather than held (default 64 MiB).
   */
  maxRecordBytes?: number;
}

export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** How much of a too-large record's start is kept, to show in `raw`. */
const PREVIEW_BYTES = 1024;

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = new Uint8Array(0);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

const concat = (parts: readonly Uint8Array[], tail: Uint8Array = EMPTY): Uint8Array => {
  let length = tail.length;
  for (const part of parts) length += part.length;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  bytes.set(tail, at);
  return bytes;
};

const headOf = (parts: readonly Uint8Array[], limit: number): Uint8Array => {
  const head: Uint8Array[] = [];
  let length = 0;
  for (const part of parts) {
    if (length >= limit) break;
    const piece = part.subarray(0, limit - length);
    head.push(piece);
    length += piece.length;
  }
  return concat(head);
};

const withoutNewline = (bytes: Uint8Array): Uint8Array => {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === LF) end--;
  if (end > 0 && bytes[end - 1] === CR) end--;
  return bytes.subarray(0, end);
};

const hasBom = (bytes: Uint8Array) => bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;

type Taken = { bytes: Uint8Array } | { tooLarge: Uint8Array };

/**
 * The bytes of the record being scanned that arrived in earlier chunks (copied, since a source may
 * reuse its buffers). Past the cap they are dropped but for the first PREVIEW_BYTES, so one record
 * never costs more than the cap, however long it is.
 */
class PendingBytes {
  private parts: Uint8Array[] = [];
  private start = 0;
  private dropped = false;

  constructor(private readonly cap: number) {}

  /** Bytes [start, end) of a record that ends in `chunk`, whose first byte is at offset `base`. */
  take(start: number, end: number, chunk: Uint8Array, base: number): Taken {
    const inChunk = start >= base;
    if (end - start > this.cap) {
      let head: Uint8Array;
      if (inChunk) head = chunk.subarray(start - base, Math.min(end, start + PREVIEW_BYTES) - base);
      else head = headOf([...this.parts, chunk.subarray(0, end - base)], PREVIEW_BYTES);
      if (!inChunk) this.parts = [];
      return { tooLarge: head.length === end - start ? withoutNewline(head) : head };
    }
    if (inChunk) return { bytes: chunk.subarray(start - base, end - base) };
    const bytes = concat(this.parts, chunk.subarray(0, end - base)).subarray(start - this.start);
    this.parts = [];
    return { bytes };
  }

  /** After a chunk's records: keeps its bytes from `pendingStart`, where the unfinished record starts. */
  keep(pendingStart: number, chunk: Uint8Array, base: number): void {
    const chunkEnd = base + chunk.length;
    if (pendingStart >= base) {
      this.parts = [];
      this.dropped = false;
      this.start = pendingStart;
      if (pendingStart === chunkEnd) return;
    }
    const tail = chunk.subarray(Math.max(0, this.start - base));
    if (this.dropped || chunkEnd - this.start > this.cap) {
      // Too large: only the first PREVIEW_BYTES are kept, in `parts`, to show in `raw`.
      this.parts = [headOf([...this.parts, tail], PREVIEW_BYTES)];
      this.dropped = true;
      return;
    }
    this.parts.push(new Uint8Array(tail));
  }
}

const parseRecord = (raw: string, line: number, format: RecordFormat): DecodedRecord => {
  if (format === 'csv') {
    const parsed = parseCsvCells(raw);
    return parsed.ok
      ? { line, raw, ok: true, value: parsed.cells }
      : {
          line,
          raw,
          ok: false,
          error: { code: 'MALFORMED_CSV', message: `Line ${line}: ${parsed.message}.` },
        };
  }
  try {
    return { line, raw, ok: true, value: JSON.parse(raw) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { line, raw, ok: false, error: { code: 'MALFORMED_JSON', message: `Line ${line}: ${reason}` } };
  }
};

const decodeOne = (
  taken: Taken,
  start: number,
  line: number,
  format: RecordFormat,
  atObjectStart: boolean,
  cap: number,
): DecodedRecord => {
  const atBom = atObjectStart && start === 0;
  if ('tooLarge' in taken) {
    const head = atBom && hasBom(taken.tooLarge) ? taken.tooLarge.subarray(3) : taken.tooLarge;
    return {
      line,
      raw: lenientUtf8.decode(head),
      ok: false,
      error: {
        code: 'RECORD_TOO_LARGE',
        message: `Line ${line}: the record is larger than ${cap} bytes; raw holds at most its first ${PREVIEW_BYTES} bytes.`,
      },
    };
  }
  let bytes = withoutNewline(taken.bytes);
  if (atBom && hasBom(bytes)) bytes = bytes.subarray(3);
  let raw: string;
  try {
    raw = strictUtf8.decode(bytes);
  } catch {
    return {
      line,
      raw: lenientUtf8.decode(bytes),
      ok: false,
      error: { code: 'INVALID_ENCODING', message: `Line ${line}: the record is not valid UTF-8.` },
    };
  }
  return parseRecord(raw, line, format);
};

/**
 * Decodes the records of a byte range that starts at a record boundary (a whole object, or a shard
 * aligned by `alignedRangeOf`): one array per chunk the source yields, so that a consumer handles a chunk's
 * records without an await (and its microtasks) for each. A record that cannot be decoded comes
 * with `ok: false` and the rest go on; only a source that fails, or yields something other than
 * bytes, throws.
 */
export async function* decodeRecordChunks(
  source: AsyncIterable<Uint8Array>,
  format: RecordFormat,
  options: DecodeOptions,
): AsyncGenerator<DecodedRecord[]> {
  const atObjectStart = options.atObjectStart ?? options.firstLine === 1;
  const cap = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const scanner = new RecordScanner(format, { offset: 0, line: options.firstLine, atObjectStart });
  const pending = new PendingBytes(cap);
  for await (const piece of source) {
    const chunk = bytesOf(piece);
    // Records are cut from a plain Uint8Array view: its subarray is cheaper than Buffer's.
    const view = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    const base = scanner.fedEnd;
    scanner.feed(chunk);
    const records: DecodedRecord[] = [];
    while (scanner.next()) {
      const taken = pending.take(scanner.start, scanner.end, view, base);
      records.push(decodeOne(taken, scanner.start, scanner.line, format, atObjectStart, cap));
    }
    pending.keep(scanner.pendingStart, view, base);
    if (records.length > 0) yield records;
  }
  if (scanner.finish()) {
    const taken = pending.take(scanner.start, scanner.end, EMPTY, scanner.end);
    yield [decodeOne(taken, scanner.start, scanner.line, format, atObjectStart, cap)];
  }
}

/** `decodeRecordChunks`, one record at a time. */
export async function* decodeRecords(
  source: AsyncIterable<Uint8Array>,
  format: RecordFormat,
  options: DecodeOptions,
): AsyncGenerator<DecodedRecord> {
  for await (const records of decodeRecordChunks(source, format, options)) yield* records;
}

/** The column names of a CSV header row (a BOM and the trailing newline are dropped). */
export const parseCsvHeader = (raw: string): string[] => {
  const text = raw.replace(/^\uFEFF/, '').replace(/\r?\n$/, '');
  const parsed = parseCsvCells(text);
  if (!parsed.ok)
    throw new InvalidInput('MALFORMED_CSV', `The CSV header row is malformed: ${parsed.message}.`);
  return parsed.cells;
};
