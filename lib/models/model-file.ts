import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';

/** A file as a version registration declares it: its name, SHA-256 (read in a stream) and size. */
export const describeModelFile = async (path: string, name = basename(path)) => {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { name, sha256: hash.digest('hex'), size: (await stat(path)).size };
};
