import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { locationOf } from '../../lib/domain/s3-location';
import type { ModelVersion } from '../../lib/domain/model-version';
import { LongtailError } from '../../lib/errors';
import type { ObjectStore } from '../../lib/ports/object-store';

/** A file whose bytes are not the ones registered: a corrupt or replaced upload. */
export class ChecksumMismatch extends LongtailError {
  override name = 'ChecksumMismatch';
}

/**
 * Streams a version's files from its S3 location into `folder`, hashing each on the way; a file
 * whose SHA-256 is not the registered one fails the download, so that no one loads it.
 */
export const downloadModelVersion = async (
  version: Pick<ModelVersion, 'name' | 'version' | 'files' | 'location'>,
  folder: string,
  objects: ObjectStore,
) => {
  await mkdir(folder, { recursive: true });
  const prefix = locationOf(version.location);
  for (const file of version.files) {
    const hash = createHash('sha256');
    let bytes = 0;
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    const body = await objects.openRead({ bucket: prefix.bucket, key: `${prefix.key}${file.name}` });
    await pipeline(body, hashing, createWriteStream(join(folder, file.name)));
    const digest = hash.digest('hex');
    if (digest !== file.sha256 || bytes !== file.size) {
      throw new ChecksumMismatch(
        'CHECKSUM_MISMATCH',
        `${version.name}:${version.version}: ${file.name} has SHA-256 ${digest} (${bytes} bytes); ${file.sha256} (${file.size} bytes) was registered.`,
      );
    }
  }
};
