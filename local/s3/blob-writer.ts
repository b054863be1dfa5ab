import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';

/** What was learnt about a body while it streamed to disk. */
export interface WrittenBlob {
  /** The temporary file, renamed into place when the object is committed. */
  path: string;
  size: number;
  md5: Buffer;
  /** CRC32 of the body (the SDK's default checksum), as S3 writes it: base64 of 4 bytes. */
  crc32: string;
}

/** Counts and hashes a body as it passes, without holding any of it. */
class Digester extends Transform {
  readonly md5 = createHash('md5');
  crc = 0;
  size = 0;

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    done: (error?: Error | null, data?: Buffer) => void,
  ) {
    this.md5.update(chunk);
    this.crc = crc32(chunk, this.crc);
    this.size += chunk.length;
    done(null, chunk);
  }
}

const crcBase64 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
};

/** Chains streams into one, opening each only when the one before has ended. */
async function* concatenated(sources: (() => Readable)[]) {
  for (const source of sources) for await (const chunk of source()) yield chunk as Buffer;
}

/** Writes `sources` one after the other into a new file under `tmpDir`; removes it on failure. */
export const writeBlob = async (tmpDir: string, sources: (() => Readable)[]): Promise<WrittenBlob> => {
  const path = join(tmpDir, randomUUID());
  const digester = new Digester();
  try {
    const body = sources.length === 1 ? sources[0]!() : Readable.from(concatenated(sources));
    await pipeline(body, digester, createWriteStream(path, { highWaterMark: 1 << 20 }));
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  return { path, size: digester.size, md5: digester.md5.digest(), crc32: crcBase64(digester.crc) };
};

/** A file's bytes `start`..`end` (inclusive) as a stream. */
export const readRange = (path: string, start?: number, end?: number) =>
  createReadStream(path, { start, end, highWaterMark: 1 << 20 });
