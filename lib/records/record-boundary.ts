import type { RecordFormat } from './formats';
import { bytesOf } from './scanner';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;

/** Bytes [start, end) of one object, read on demand (an S3 ranged GET). */
export type ReadBytes = (start: number, end: number) => Promise<AsyncIterable<Uint8Array>>;

export interface BoundaryOptions {
  format: RecordFormat;
  /** The object's size: a cut at or past it is the end. */
  size: number;
  /**
   * CSV only: the windows read after a cut to tell whether it lies inside a quoted field, each
   * tried when the one before could not decide (default 64 KiB, 1 MiB, 16 MiB). When none
   * decides, the quotes before the cut are counted from the object's start: exact, and slow.
   */
  speculationWindows?: readonly number[];
  /** Called when speculation could not decide and the quotes are counted from the start. */
  onExactFallback?: (cut: number) => void;
}

const DEFAULT_WINDOWS = [64 * 1024, 1024 * 1024, 16 * 1024 * 1024] as const;
/** Bytes asked for at once when looking for the newline that ends a record. */
const SCAN_STEP = 64 * 1024;

const readAll = async (read: ReadBytes, start: number, end: number): Promise<Buffer> => {
  if (end <= start) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for await (const piece of await read(start, end)) parts.push(Buffer.from(bytesOf(piece)));
  return Buffer.concat(parts);
};

/**
 * Quote parity: the scanner's rule is that every `"` toggles "inside quotes" (a `""` escape
 * toggles twice), so the state at an offset is the parity of the quotes before it.
 */
const countQuotes = (bytes: Uint8Array, from = 0, to = bytes.length): number => {
  const buffer = bytesOf(bytes);
  let count = 0;
  for (let at = buffer.indexOf(QUOTE, from); at !== -1 && at < to; at = buffer.indexOf(QUOTE, at + 1))
    count++;
  return count;
};

/**
 * Whether a window of an RFC 4180 file parses when the byte at its start is (or is not) inside
 * a quoted field. A quote that opens a field must follow a comma, a newline or another quote (the
 * second of a `""`); one that closes must precede a comma, a CR or LF, another quote, or the end
 * of the object. In a well-formed file the true state never breaks these, so when exactly one
 * state breaks them the other is the truth. `before` is the byte preceding the window, if any.
 */
const breaksRfc4180 = (window: Buffer, inQuotes: boolean, before: number | undefined) => {
  let state = inQuotes;
  for (let at = window.indexOf(QUOTE); at !== -1; at = window.indexOf(QUOTE, at + 1)) {
    if (!state) {
      const previous = at === 0 ? before : window[at - 1];
      if (previous !== undefined && previous !== COMMA && previous !== LF && previous !== QUOTE) return true;
    } else {
      const next = at + 1 < window.length ? window[at + 1] : undefined;
      // A quote last in the window closes a field at the object's end, or before bytes not read.
      if (next !== undefined && next !== COMMA && next !== LF && next !== CR && next !== QUOTE) return true;
    }
    state = !state;
  }
  return false;
};

/**
 * Whether offset `at` of a CSV object lies inside a quoted field, read from the bytes after it
 * (speculation), or, when those cannot decide, by counting every quote before it (exact).
 */
export const csvInQuotesAt = async (
  read: ReadBytes,
  at: number,
  options: BoundaryOptions,
): Promise<{ inQuotes: boolean; window: Buffer }> => {
  const windows = options.speculationWindows ?? DEFAULT_WINDOWS;
  let window: Buffer = Buffer.alloc(0);
  // Near the start, counting is as cheap as speculating, and a BOM there cannot mislead it.
  for (const size of at <= (windows[0] ?? 0) ? [] : windows) {
    const from = Math.max(0, at - 1);
    const end = Math.min(options.size, at + size);
    const read1 = await readAll(read, from, end);
    const before = at > 0 ? read1[0] : undefined;
    window = read1.subarray(at - from);
    if (at === 0) return { inQuotes: false, window };
    const outsideBreaks = breaksRfc4180(window, false, before);
    const insideBreaks = breaksRfc4180(window, true, before);
    if (outsideBreaks !== insideBreaks) return { inQuotes: outsideBreaks, window };
    if (end === options.size) break;
  }
  if (at > (windows[0] ?? 0)) options.onExactFallback?.(at);
  let quotes = 0;
  for await (const piece of await read(0, at)) quotes += countQuotes(piece);
  return { inQuotes: quotes % 2 === 1, window };
};

/**
 * The first record boundary at or after `cut`: 0, the object's size, or the offset just after a
 * newline that ends a line (for CSV, one outside quotes). Blank lines are lines, so their starts
 * are boundaries too, as `RecordScanner` counts them. Two shards that meet at a cut both ask
 * this of it and get the same answer from the same bytes, so every record is read by exactly one
 * of them: the one its first byte falls in.
 */
export const recordBoundaryAtOrAfter = async (
  read: ReadBytes,
  cut: number,
  options: BoundaryOptions,
): Promise<number> => {
  if (cut <= 0) return 0;
  if (cut >= options.size) return options.size;
  // The byte before the cut decides whether the cut itself is a boundary.
  const from = cut - 1;
  let inQuotes = false;
  // For CSV, the window speculation read already holds the bytes after the cut.
  let held: Buffer | undefined;
  if (options.format === 'csv') ({ inQuotes, window: held } = await csvInQuotesAt(read, from, options));
  let step = SCAN_STEP;
  for (let at = from; at < options.size;) {
    const end = held && held.length > 0 ? at + held.length : Math.min(options.size, at + step);
    const chunk = held && held.length > 0 ? held : await readAll(read, at, end);
    held = undefined;
    if (options.format === 'jsonl') {
      const newline = chunk.indexOf(LF);
      if (newline !== -1) return at + newline + 1;
    } else {
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i];
        if (byte === QUOTE) inQuotes = !inQuotes;
        else if (byte === LF && !inQuotes) return at + i + 1;
      }
    }
    at = end;
    step = Math.min(step * 2, 16 * 1024 * 1024);
  }
  return options.size;
};

/** A shard's cut, as planned: byte offsets, not yet at record boundaries. */
export interface ShardCut {
  start: number;
  end: number;
  /** `start` is already a boundary (the object's start, or the end of its CSV header). */
  startsAtRecord: boolean;
}

/**
 * The bytes a shard reads: from the first record boundary at or after its start to the first at
 * or after its end. Adjacent shards share the boundary between them, so together they read every
 * byte of the object once; a shard inside one long record reads nothing (start === end).
 */
export const alignedRangeOf = async (
  read: ReadBytes,
  cut: ShardCut,
  options: BoundaryOptions,
): Promise<{ start: number; end: number }> => {
  const start = cut.startsAtRecord ? cut.start : await recordBoundaryAtOrAfter(read, cut.start, options);
  const end = await recordBoundaryAtOrAfter(read, cut.end, options);
  return { start, end: Math.max(start, end) };
};

/** Ranged reads of one object through anything with `openRange` (an ObjectStore), end exclusive. */
export const rangeReaderOf =
  <L>(
    objects: { openRange(location: L, start: number, end: number): Promise<AsyncIterable<Uint8Array>> },
    location: L,
  ): ReadBytes =>
  async (start, end) =>
    end > start ? objects.openRange(location, start, end - 1) : (async function* () {})();

/** How far a shard's reader has got: bytes and newlines read of its aligned range. */
export interface ReadPosition {
  bytes: number;
  lines: number;
}

/**
 * Streams an aligned range, counting its bytes and newlines as they pass: the bytes for
 * progress, the newlines so that assembly can number the lines of the shards after it.
 */
export async function* countingBytes(
  source: AsyncIterable<Uint8Array>,
  position: ReadPosition,
): AsyncGenerator<Buffer> {
  for await (const piece of source) {
    const chunk = bytesOf(piece);
    for (let at = chunk.indexOf(LF); at !== -1; at = chunk.indexOf(LF, at + 1)) position.lines++;
    position.bytes += chunk.length;
    yield chunk;
  }
}
