import { Readable } from 'node:stream';
import { AwsChunkedDecoder, isAwsChunked } from '../../local/s3/aws-chunked';

/** Feeds `body` to a decoder in pieces of `step` bytes; the decoded bytes and the trailers. */
const decode = async (body: string, step: number) => {
  const pieces: Buffer[] = [];
  const bytes = Buffer.from(body, 'latin1');
  for (let at = 0; at < bytes.length; at += step) pieces.push(bytes.subarray(at, at + step));
  const decoder = Readable.from(pieces).pipe(new AwsChunkedDecoder());
  const out: Buffer[] = [];
  for await (const chunk of decoder) out.push(chunk as Buffer);
  return { data: Buffer.concat(out).toString('latin1'), trailers: decoder.trailers };
};

const signature = 'a'.repeat(64);

describe('aws-chunked decoding', () => {
  it.each([1, 3, 7, 1000])('decodes signed chunks fed %i bytes at a time', async (step) => {
    const body =
      `5;chunk-signature=${signature}\r\nhello\r\n` +
      `6;chunk-signature=${signature}\r\n world\r\n` +
      `0;chunk-signature=${signature}\r\n\r\n`;
    expect((await decode(body, step)).data).toBe('hello world');
  });

  it.each([1, 5, 1000])(
    'decodes unsigned chunks with a checksum trailer, %i bytes at a time',
    async (step) => {
      const body = 'a\r\n0123456789\r\n3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n';
      const { data, trailers } = await decode(body, step);
      expect(data).toBe('0123456789abc');
      expect(trailers).toEqual({ 'x-amz-checksum-crc32': 'AAAAAA==' });
    },
  );

  it('passes bytes that look like framing through inside a chunk', async () => {
    const payload = '0\r\n\r\n3;x\r\n';
    const body = `${payload.length.toString(16)}\r\n${payload}\r\n0\r\n\r\n`;
    expect((await decode(body, 2)).data).toBe(payload);
  });

  it('refuses a body that ends inside a chunk', async () => {
    await expect(decode('a\r\n01234', 100)).rejects.toThrow('ended inside an aws-chunked chunk');
  });

  it('refuses a chunk longer than its size', async () => {
    await expect(decode('2\r\nabc\r\n0\r\n\r\n', 100)).rejects.toThrow('chunk data longer than its size');
  });

  it('refuses a size line that is not hexadecimal', async () => {
    await expect(decode('zz\r\nab\r\n', 100)).rejects.toThrow('bad chunk size line');
  });

  it('tells framed bodies by their payload hash, not by Content-Encoding alone', () => {
    expect(isAwsChunked({ 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' })).toBe(true);
    expect(isAwsChunked({ 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' })).toBe(true);
    expect(
      isAwsChunked({ 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }),
    ).toBe(false);
  });
});
