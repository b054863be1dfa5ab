import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { checksumOf } from '../../lib/domain/model-version';
import type { ModelVersion } from '../../lib/domain/model-version';
import type { S3Location } from '../../lib/domain/s3-location';
import { InMemoryObjectStore } from '../fixtures/in-memory';

export type StoredModelVersion = Pick<ModelVersion, 'name' | 'version' | 'checksum' | 'files' | 'location'>;

export const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** A version record for these files, as the registry would hold it once they are uploaded. */
export const modelVersionOf = (
  files: Record<string, Buffer>,
  id: { name: string; version: string } = { name: 'tiny', version: '1' },
): StoredModelVersion => {
  const registered = Object.entries(files).map(([name, bytes]) => ({
    name,
    sha256: sha256(bytes),
    size: bytes.length,
  }));
  return {
    ...id,
    files: registered,
    checksum: checksumOf(registered),
    location: `s3://models-bucket/tests/${id.name}/${id.version}/`,
  };
};

interface ModelFileStoreOptions {
  /** Served in chunks of this many bytes, a pause before each: downloads that take a while. */
  chunkBytes?: number;
  chunkDelayMs?: number;
  /** A file each read is appended to as `<pid> <key>`, to count reads across processes. */
  readLog?: string;
}

/**
 * An object store holding model files as S3 would, that records every read and can serve them
 * slowly, or hold a file back until the test lets it go.
 */
export class ModelFileStore extends InMemoryObjectStore {
  /** The keys read, in order. */
  readonly reads: string[] = [];
  private readonly held = new Map<string, Promise<void>>();

  constructor(private readonly options: ModelFileStoreOptions = {}) {
    super();
  }

  /** Puts the files at the version's location. */
  putVersion(version: StoredModelVersion, files: Record<string, Buffer>) {
    const prefix = version.location.replace(/^s3:\/\/[^/]+\//, '');
    for (const [name, bytes] of Object.entries(files))
      this.put({ bucket: 'models-bucket', key: prefix + name }, bytes);
  }

  /** Reads of keys ending with `fileName` wait until the returned function is called. */
  holdBack(fileName: string): () => void {
    let release = () => {};
    this.held.set(fileName, new Promise<void>((resolve) => (release = resolve)));
    return release;
  }

  override async openRead(location: S3Location): Promise<Readable> {
    this.reads.push(location.key);
    if (this.options.readLog) appendFileSync(this.options.readLog, `${process.pid} ${location.key}\n`);
    const body = await super.openRead(location);
    const gate = [...this.held].find(([name]) => location.key.endsWith(name))?.[1];
    return Readable.from(this.served(body, gate));
  }

  private async *served(body: Readable, gate: Promise<void> | undefined) {
    await gate;
    const { chunkBytes = 64 * 1024, chunkDelayMs = 0 } = this.options;
    for await (const chunk of body) {
      const bytes = chunk as Buffer;
      for (let at = 0; at < bytes.length; at += chunkBytes) {
        if (chunkDelayMs > 0) await sleep(chunkDelayMs);
        yield bytes.subarray(at, at + chunkBytes);
      }
    }
  }
}
