import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { S3Error } from './errors';

/** Whether a request body is in aws-chunked framing (SigV4 streaming, or unsigned with a trailer). */
export const isAwsChunked = (headers: Record<string, string | string[] | undefined>) =>
  // Content-Encoding: aws-chunked alone does not say the body is framed (botocore sends it on
  // plain bodies); the payload hash naming a STREAMING- mode does.
  String(headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-');

const incomplete = () =>
  new S3Error('IncompleteBody', 400, 'The request body ended inside an aws-chunked chunk');
const malformed = (why: string) => new S3Error('InvalidRequest', 400, `Malformed aws-chunked body: ${why}`);

/** Longest chunk header or trailer line accepted: a size, a 64-hex signature and a name. */
const maxLineBytes = 4096;

/**
 * Decodes aws-chunked framing as a stream: `<hex size>[;chunk-signature=...]\r\n<data>\r\n`
 * repeated, a zero-size chunk, then optional trailer lines (`x-amz-checksum-crc32:...`) and an
 * empty line. Only one chunk's framing is buffered; data passes straight through. Chunk
 * signatures are not verified: the local store serves one user and checks no signatures.
 */
export class AwsChunkedDecoder extends Transform {
  /** Trailer headers (lower-case names), known once the stream has ended. */
  readonly trailers: Record<string, string> = {};
  private pending = Buffer.alloc(0);
  private remaining = 0;
  private state: 'header' | 'data' | 'data-end' | 'trailer' | 'done' = 'header';

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
    try {
      this.consume(chunk);
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback) {
    // Some clients end after the zero chunk without the final empty line.
    if (this.state === 'done' || (this.state === 'trailer' && this.pending.length === 0)) done();
    else done(incomplete());
  }

  private consume(input: Buffer) {
    let buffer = this.pending.length ? Buffer.concat([this.pending, input]) : input;
    this.pending = Buffer.alloc(0);
    while (buffer.length > 0) {
      if (this.state === 'data') {
        const take = Math.min(this.remaining, buffer.length);
        this.push(buffer.subarray(0, take));
        buffer = buffer.subarray(take);
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'data-end';
        continue;
      }
      if (this.state === 'done') {
        if (buffer.toString('latin1').trim() !== '') throw malformed('bytes after the last chunk');
        return;
      }
      const end = buffer.indexOf('\r\n');
      if (end < 0) {
        if (buffer.length > maxLineBytes) throw malformed('line too long');
        this.pending = Buffer.from(buffer);
        return;
      }
      const line = buffer.subarray(0, end).toString('latin1');
      buffer = buffer.subarray(end + 2);
      if (this.state === 'data-end') {
        if (line !== '') throw malformed('chunk data longer than its size');
        this.state = 'header';
      } else if (this.state === 'header') {
        const size = Number.parseInt(line.split(';')[0] ?? '', 16);
        if (!Number.isFinite(size) || size < 0 || !/^[0-9a-fA-F]+$/.test(line.split(';')[0] ?? ''))
          throw malformed(`bad chunk size line "${line.slice(0, 80)}"`);
        if (size === 0) this.state = 'trailer';
        else {
          this.remaining = size;
          this.state = 'data';
        }
      } else if (line === '') {
        this.state = 'done';
      } else {
        const colon = line.indexOf(':');
        if (colon < 0) throw malformed(`bad trailer line "${line.slice(0, 80)}"`);
        this.trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
    }
  }
}
