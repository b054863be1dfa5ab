import type { RecordFormat } from './formats';

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BOM = [0xef, 0xbb, 0xbf] as const;
const EMPTY = new Uint8Array(0);

export interface ScannerStart {
  /** Offset in the object of the first byte fed. */
  offset: number;
  /** Line number (1-based) of the first byte fed. */
  line: number;
  /** The first byte fed is the object's first byte: a UTF-8 BOM there is not content. */
  atObjectStart: boolean;
}

/**
 * The record-boundary state machine shared by `recordSpans`, `readFirstRecord` and `decodeRecords`, so
 * that all three agree on where records start and end and on their line numbers.
 *
 * Pull-based so that callers handle one record at a time: `feed` a chunk, call `next()` until it
 * returns false, feed the next chunk; after the last chunk, `finish()` reports a last record that
 * lacks a newline. After `next()` or `finish()` returns true, `start`/`end`/`line`/`endLine`
 * describe the record. The scanner keeps a handful of numbers, never record bytes.
 *
 * Rules: a record ends at an LF (the CR of a CRLF comes before it and so is inside the span). For
 * CSV, every `"` toggles "inside quotes" (so `""` inside a quoted field toggles twice) and an LF
 * inside quotes does not end the record; an unterminated quote runs to the end of the input. A
 * candidate record with nothing but spaces, tabs and CRs is a blank line, not a record. A BOM at
 * the object's first byte is part of the first line but not content.
 */
export class RecordScanner {
  /** Start offset (in the object) of the record just found. */
  start = 0;
  /** End offset (exclusive, after its newline if any) of the record just found. */
  end = 0;
  /** Line number of the record's first physical line. */
  line = 0;
  /** Line number of the byte at `end`: where the next record's line counting starts. */
  endLine = 0;

  private readonly csv: boolean;
  private chunk: Uint8Array = EMPTY;
  private base: number;
  private pos = 0;
  private lineAtPos: number;
  private candidateStart: number;
  private candidateLine: number;
  private content = false;
  private inQuotes = false;
  private bomMatched: number;
  private finished = false;
  private nextQuote = -2;
  private nextLf = -2;

  constructor(format: RecordFormat, start: ScannerStart) {
    this.csv = format === 'csv';
    this.base = start.offset;
    this.lineAtPos = start.line;
    this.candidateStart = start.offset;
    this.candidateLine = start.line;
    this.bomMatched = start.atObjectStart ? 0 : BOM.length;
  }

  /** Where the record being scanned now (not yet ended) starts: bytes before it are done with. */
  get pendingStart(): number {
    return this.candidateStart;
  }

  /** Offset of the byte after everything fed so far. */
  get fedEnd(): number {
    return this.base + this.chunk.length;
  }

  feed(chunk: Uint8Array): void {
    if (this.finished) throw new Error('RecordScanner: feed after finish');
    this.base += this.chunk.length;
    this.chunk = chunk;
    this.pos = 0;
    this.nextQuote = -2;
    this.nextLf = -2;
  }

  /** Finds the next record that ends inside the current chunk. */
  next(): boolean {
    const chunk = this.chunk;
    const length = chunk.length;
    let i = this.pos;
    if (this.bomMatched < BOM.length) i = this.matchBom(i);
    let content = this.content;
    let inQuotes = this.inQuotes;
    let line = this.lineAtPos;
    let found = false;

    if (this.csv) {
      // Jumps between quotes and LFs with indexOf; the next of each is cached (-2: not looked for
      // yet, -1: none left in this chunk) so that every byte is searched once.
      let nextQuote = this.nextQuote;
      let nextLf = this.nextLf;
      while (i < length) {
        if (!content) {
          const byte = chunk[i]!;
          i++;
          if (byte === LF) {
            line++;
            this.candidateStart = this.base + i;
            this.candidateLine = line;
          } else if (byte === QUOTE) {
            inQuotes = true;
            content = true;
          } else if (byte !== SPACE && byte !== TAB && byte !== CR) {
            content = true;
          }
          continue;
        }
        if (nextQuote !== -1 && nextQuote < i) nextQuote = chunk.indexOf(QUOTE, i);
        if (nextLf !== -1 && nextLf < i) nextLf = chunk.indexOf(LF, i);
        if (inQuotes) {
          const stop = nextQuote === -1 ? length : nextQuote;
          while (nextLf !== -1 && nextLf < stop) {
            line++;
            nextLf = chunk.indexOf(LF, nextLf + 1);
          }
          if (nextQuote === -1) {
            i = length;
            break;
          }
          inQuotes = false;
          i = nextQuote + 1;
        } else if (nextQuote !== -1 && (nextLf === -1 || nextQuote < nextLf)) {
          inQuotes = true;
          i = nextQuote + 1;
        } else if (nextLf === -1) {
          i = length;
          break;
        } else {
          line++;
          i = nextLf + 1;
          found = true;
          break;
        }
      }
      this.nextQuote = nextQuote;
      this.nextLf = nextLf;
    } else {
      while (i < length) {
        if (!content) {
          const byte = chunk[i]!;
          if (byte === LF) {
            line++;
            i++;
            this.candidateStart = this.base + i;
            this.candidateLine = line;
          } else {
            if (byte !== SPACE && byte !== TAB && byte !== CR) content = true;
            i++;
          }
          continue;
        }
        const newline = chunk.indexOf(LF, i);
        if (newline === -1) {
          i = length;
          break;
        }
        line++;
        i = newline + 1;
        found = true;
        break;
      }
    }

    this.pos = i;
    this.lineAtPos = line;
    this.inQuotes = inQuotes;
    if (!found) {
      this.content = content;
      return false;
    }
    this.emit(this.base + i, line);
    return true;
  }

  /** After the last chunk: the last record, when it lacks a trailing newline. */
  finish(): boolean {
    if (this.finished) return false;
    this.finished = true;
    // A partial BOM (EF or EF BB then end of input) is content, not a BOM.
    const partialBom = this.bomMatched > 0 && this.bomMatched < BOM.length;
    if (!(this.content || partialBom) || this.candidateStart >= this.fedEnd) return false;
    this.emit(this.fedEnd, this.lineAtPos);
    return true;
  }

  private emit(end: number, endLine: number) {
    this.start = this.candidateStart;
    this.end = end;
    this.line = this.candidateLine;
    this.endLine = endLine;
    this.candidateStart = end;
    this.candidateLine = endLine;
    this.content = false;
  }

  /** Consumes BOM bytes at the object's start; a mismatch makes the bytes matched so far content. */
  private matchBom(from: number): number {
    let i = from;
    while (i < this.chunk.length && this.bomMatched < BOM.length) {
      if (this.chunk[i] !== BOM[this.bomMatched]) {
        if (this.bomMatched > 0) this.content = true;
        this.bomMatched = BOM.length;
        return i;
      }
      this.bomMatched++;
      i++;
    }
    return i;
  }
}

/**
 * A Buffer view of a chunk (no copy): Buffer's `indexOf` is a memchr, several times faster than
 * the typed array's, and one element kind keeps the scanner's loops monomorphic. Chunks must be
 * bytes: a stream with `setEncoding` would yield strings and break every offset.
 */
export const bytesOf = (chunk: unknown): Buffer => {
  if (!(chunk instanceof Uint8Array)) {
    throw new TypeError(`Record sources must yield bytes (Buffer or Uint8Array), got ${typeof chunk}`);
  }
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
};
