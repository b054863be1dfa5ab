import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { newDigest } from './checksums';
import type { ChecksumAlgorithm, Digest } from './checksums';

/** What was learnt about a body while it streamed to disk. */
export interface WrittenBlob {
  /** The temporary file, renamed into place when the object is committed. */
  path: string;
  size: number;
  md5: Buffer;
  /** The additional checksums asked for, base64 as S3 writes them. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

/** Counts and hashes a body as it passes, without holding any of it. */
class Digester extends Transform {
  readonly md5 = createHash('md5');
  size = 0;

  constructor(readonly digests: Map<ChecksumAlgorithm, Digest>) {
    super();
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    done: (error?: Error | null, data?: Buffer) => void,
  ) {
    this.md5.update(chunk);
    for (const digest of this.digests.values()) digest.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }
}

/** Chains streams into one, opening each only when the one before has ended. */
async function* concatenated(sources: (() => Readable)[]) {
  for (const source of sources) for await (const chunk of source()) yield chunk as Buffer;
}

/**
 * Writes `sources` one after the other into a new file under `tmpDir`, computing the MD5 and the
 * checksums named in `algorithms` as it streams; removes the file on failure.
 */
export const writeBlob = async (
  tmpDir: string,
  sources: (() => Readable)[],
  algorithms: Iterable<ChecksumAlgorithm> = [],
): Promise<WrittenBlob> => {
  const path = join(tmpDir, randomUUID());
  const digester = new Digester(
    new Map([...algorithms].map((algorithm) => [algorithm, newDigest(algorithm)])),
  );
  try {
    const body = sources.length === 1 ? sources[0]!() : Readable.from(concatenated(sources));
    await pipeline(body, digester, createWriteStream(path, { highWaterMark: 1 << 20 }));
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
  for (const [algorithm, digest] of digester.digests)
    checksums[algorithm] = (await digest.digest()).toString('base64');
  return { path, size: digester.size, md5: digester.md5.digest(), checksums };
};

/** A file's bytes `start`..`end` (inclusive) as a stream. */
export const readRange = (path: string, start?: number, end?: number) =>
  createReadStream(path, { start, end, highWaterMark: 1 << 20 });
