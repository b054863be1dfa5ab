import type { RecordFormat } from './formats';
import type { ReadBytes } from './record-boundary';
import { RecordScanner, bytesOf } from './scanner';

export interface FirstRecord {
  /** The record's bytes, its newline included. */
  bytes: Buffer;
  /** Offset just past it: where the records after it start. */
  end: number;
  /** Line number at `end`. */
  endLine: number;
}

/**
 * The object's first record (a CSV header), read in growing ranges (64 KiB, doubling) rather
 * than the whole object; undefined when the object holds none, or none within `maxBytes`.
 */
export const readFirstRecord = async (
  read: ReadBytes,
  format: RecordFormat,
  size: number,
  maxBytes = 64 * 1024 * 1024,
): Promise<FirstRecord | undefined> => {
  const parts: Buffer[] = [];
  const scanner = new RecordScanner(format, { offset: 0, line: 1, atObjectStart: true });
  let step = 64 * 1024;
  for (let at = 0; at < size && at < maxBytes;) {
    const end = Math.min(size, at + step);
    for await (const piece of await read(at, end)) {
      const chunk = Buffer.from(bytesOf(piece));
      parts.push(chunk);
      scanner.feed(chunk);
      if (scanner.next()) {
        const bytes = Buffer.concat(parts).subarray(0, scanner.end);
        return { bytes, end: scanner.end, endLine: scanner.endLine };
      }
    }
    at = end;
    step *= 2;
  }
  if (size <= maxBytes && scanner.finish()) {
    return {
      bytes: Buffer.concat(parts).subarray(0, scanner.end),
      end: scanner.end,
      endLine: scanner.endLine,
    };
  }
  return undefined;
};
