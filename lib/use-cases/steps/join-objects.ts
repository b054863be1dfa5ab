import { StringDecoder } from 'node:string_decoder';
import type { ObjectStore, UploadedPart } from '../../ports/object-store';
import { maxPartBytes, minPartBytes } from '../../ports/object-store';
import type { S3Location } from '../../domain/s3-location';

/** One object to append, with its size (from a listing: no request of its own). */
export interface JoinSource {
  location: S3Location;
  size: number;
  /**
   * When set, the object is read and each of its lines passed through this before it is
   * appended (failure lines whose numbers change); otherwise it is copied by the store.
   */
  rewriteLine?: (line: string) => string;
}

const readRange = async (objects: ObjectStore, location: S3Location, start: number, end: number) => {
  const chunks: Buffer[] = [];
  for await (const chunk of await objects.openRange(location, start, end - 1)) {
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
};

/** Lines of a stream, each with its newline. */
async function* linesOf(source: AsyncIterable<unknown>): AsyncGenerator<string> {
  // A character split between chunks is held until its last byte comes.
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of source) {
    rest += decoder.write(Buffer.from(chunk as Uint8Array));
    let newline = rest.indexOf('\n');
    while (newline !== -1) {
      yield rest.slice(0, newline + 1);
      rest = rest.slice(newline + 1);
      newline = rest.indexOf('\n');
    }
  }
  rest += decoder.end();
  if (rest) yield rest;
}

/**
 * Appends parts to one multipart upload, started on its first part. Bytes that must be sent (small
 * objects, rewritten lines) gather in a buffer sent as a part once it reaches S3's 5 MiB minimum,
 * so the buffer stays under about twice that whatever the sources.
 */
class PartSequence {
  private uploadId: string | undefined;
  private readonly parts: UploadedPart[] = [];
  private buffered: Buffer[] = [];
  bufferedBytes = 0;

  constructor(
    private readonly objects: ObjectStore,
    private readonly target: S3Location,
    private readonly contentType: string,
  ) {}

  private async upload(): Promise<string> {
    this.uploadId ??= await this.objects.startMultipart(this.target, this.contentType);
    return this.uploadId;
  }

  add(bytes: Buffer) {
    if (bytes.length === 0) return;
    this.buffered.push(bytes);
    this.bufferedBytes += bytes.length;
  }

  /** Sends the buffer as a part once it may be one (or at the end, whatever its size). */
  async flush(last = false) {
    if (this.bufferedBytes === 0 || (!last && this.bufferedBytes < minPartBytes)) return;
    const uploadId = await this.upload();
    const partNumber = this.parts.length + 1;
    const body = Buffer.concat(this.buffered);
    this.buffered = [];
    this.bufferedBytes = 0;
    this.parts.push({
      partNumber,
      etag: await this.objects.uploadPart(this.target, uploadId, partNumber, body),
    });
  }

  async copy(source: S3Location, start: number, end: number) {
    const uploadId = await this.upload();
    const partNumber = this.parts.length + 1;
    const etag = await this.objects.copyPart(this.target, uploadId, partNumber, source, start, end - 1);
    this.parts.push({ partNumber, etag });
  }

  /** Completes the upload; with no part started, a small (or empty) result is one plain put. */
  async finish() {
    if (this.uploadId === undefined) {
      const body = Buffer.concat(this.buffered);
      await this.objects.putText(this.target, body.toString('utf8'), this.contentType);
      return;
    }
    await this.flush(true);
    await this.objects.completeMultipart(this.target, this.uploadId, this.parts);
  }

  async abort() {
    if (this.uploadId !== undefined) await this.objects.abortMultipart(this.target, this.uploadId);
  }
}

/**
 * Writes `target` as the sources one after the other, without reading them where it can: a
 * source of at least 5 MiB (once any buffered bytes before it are topped up to a part from its
 * first bytes) is copied by the store in parts of at most 5 GiB; smaller ones are read and
 * buffered. Each source costs at most three requests (a read to top up, a copy, a buffered
 * part) and at most 10 MiB read; empty sources cost none. A source with `rewriteLine` is read line by line instead.
 */
export const joinObjects = async (
  objects: ObjectStore,
  target: S3Location,
  sources: readonly JoinSource[],
  contentType: string,
): Promise<void> => {
  const parts = new PartSequence(objects, target, contentType);
  try {
    for (const source of sources) {
      if (source.size === 0) continue;
      if (source.rewriteLine) {
        for await (const line of linesOf(await objects.openRead(source.location))) {
          parts.add(Buffer.from(source.rewriteLine(line)));
          await parts.flush();
        }
        continue;
      }
      // Bytes buffered before a large source are topped up to a part from its start, unless
      // that would leave less than a part of it to copy: then it is read whole (under 10 MiB).
      let offset = 0;
      if (parts.bufferedBytes > 0) {
        const topUp = minPartBytes - parts.bufferedBytes;
        offset = source.size - topUp >= minPartBytes ? topUp : source.size;
        parts.add(await readRange(objects, source.location, 0, offset));
        await parts.flush();
      } else if (source.size < minPartBytes) {
        offset = source.size;
        parts.add(await readRange(objects, source.location, 0, offset));
        await parts.flush();
      }
      const rest = source.size - offset;
      if (rest === 0) continue;
      // Equal pieces, each within S3's 5 MiB–5 GiB part sizes.
      const pieces = Math.ceil(rest / maxPartBytes);
      for (let i = 0; i < pieces; i++) {
        const start = offset + Math.floor((i * rest) / pieces);
        const end = offset + Math.floor(((i + 1) * rest) / pieces);
        await parts.copy(source.location, start, end);
      }
    }
    await parts.finish();
  } catch (error) {
    await parts.abort().catch(() => undefined);
    throw error;
  }
};
