import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { checksumOf } from '../../local/s3/checksums';
import { startS3Server } from '../../local/s3/server';
import { DiskS3Store } from '../../local/s3/store';

const mib = 1024 * 1024;
const sha256 = (body: Buffer | string) => createHash('sha256').update(body).digest('base64');
const crc32Of = (body: Buffer | string) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc32(body) >>> 0);
  return bytes.toString('base64');
};

/** The local S3's additional checksums, non-ASCII metadata and part races, through the AWS SDK v3. */
describe('the local S3 with checksums', () => {
  const dir = mkdtempSync(join(tmpdir(), 'longtail-s3-checksums-'));
  const bucket = 'checksums';
  let store: DiskS3Store;
  let server: Awaited<ReturnType<typeof startS3Server>>;
  let s3: S3Client;

  beforeAll(async () => {
    store = await DiskS3Store.open(dir);
    server = await startS3Server(store);
    // The SDK's defaults: a CRC32 trailer on every upload, response checksums validated.
    s3 = new S3Client({
      endpoint: server.url,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(async () => {
    s3.destroy();
    await server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the SDK's default CRC32 and answers it only when asked", async () => {
    const body = 'checked by default';
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'default', Body: body }));
    expect(put.ChecksumCRC32).toBe(crc32Of(body));
    const plain = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'default' }));
    expect(plain.ChecksumCRC32).toBeUndefined();
    const asked = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'default', ChecksumMode: 'ENABLED' }),
    );
    expect(asked).toMatchObject({ ChecksumCRC32: crc32Of(body), ChecksumType: 'FULL_OBJECT' });
  });

  it.each([
    ['SHA256', 'ChecksumSHA256'],
    ['CRC32C', 'ChecksumCRC32C'],
    ['SHA1', 'ChecksumSHA1'],
    ['CRC64NVME', 'ChecksumCRC64NVME'],
  ] as const)('takes ChecksumAlgorithm %s and answers it on GET', async (algorithm, field) => {
    const body = Buffer.alloc(3 * mib + 5, algorithm);
    const key = `algorithm/${algorithm}`;
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ChecksumAlgorithm: algorithm }),
    );
    const expected = await checksumOf(algorithm, body);
    expect(put[field]).toBe(expected);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    expect(get[field]).toBe(expected);
    // The SDK validates the body against the checksum as it reads it.
    expect(Buffer.from(await get.Body!.transformToByteArray()).equals(body)).toBe(true);
    const ranged = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED', Range: 'bytes=0-9' }),
    );
    expect(ranged[field]).toBeUndefined();
    expect(await ranged.Body!.transformToString()).toBe(algorithm.repeat(10).slice(0, 10));
  });

  it('refuses a body whose checksum does not match, keeping the object it had', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'refused', Body: 'before' }));
    await expect(
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'refused',
          Body: 'after',
          ChecksumSHA256: sha256('other'),
        }),
      ),
    ).rejects.toMatchObject({ name: 'BadDigest', $metadata: { httpStatusCode: 400 } });
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'refused' }));
    expect(await Body!.transformToString()).toBe('before');
  });

  it('fails a GET whose body no longer matches its checksum (the SDK validates it)', async () => {
    const body = Buffer.alloc(64 * 1024, 1);
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'rotten', Body: body, ChecksumAlgorithm: 'CRC32C' }),
    );
    const record = await store.head(bucket, 'rotten');
    writeFileSync(store.blobPath(record.blob), Buffer.alloc(body.length, 2));
    const get = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'rotten', ChecksumMode: 'ENABLED' }),
    );
    await expect(get.Body!.transformToByteArray()).rejects.toThrow(/Checksum mismatch/);
  });

  it('gives a lib-storage upload a composite CRC32 and each part its own', async () => {
    const body = Buffer.concat([Buffer.alloc(5 * mib, 'x'), Buffer.alloc(5 * mib, 'y'), Buffer.from('end')]);
    await new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'lib-storage', Body: body },
      partSize: 5 * mib,
    }).done();
    const parts = [body.subarray(0, 5 * mib), body.subarray(5 * mib, 10 * mib), body.subarray(10 * mib)];
    const composite = `${await checksumOf(
      'CRC32',
      Buffer.concat(parts.map((part) => Buffer.from(crc32Of(part), 'base64'))),
    )}-3`;
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'lib-storage', ChecksumMode: 'ENABLED' }),
    );
    expect(head).toMatchObject({ ChecksumCRC32: composite, ChecksumType: 'COMPOSITE' });
    const second = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'lib-storage', PartNumber: 2, ChecksumMode: 'ENABLED' }),
    );
    expect(second.ChecksumCRC32).toBe(crc32Of(parts[1]!));
    expect(Buffer.from(await second.Body!.transformToByteArray()).equals(parts[1]!)).toBe(true);
    const whole = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'lib-storage' }));
    expect(Buffer.from(await whole.Body!.transformToByteArray()).equals(body)).toBe(true);
    const attributes = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: bucket,
        Key: 'lib-storage',
        ObjectAttributes: ['Checksum', 'ObjectParts', 'ObjectSize'],
      }),
    );
    expect(attributes.Checksum).toEqual({ ChecksumCRC32: composite, ChecksumType: 'COMPOSITE' });
    expect(attributes.ObjectSize).toBe(body.length);
    expect(attributes.ObjectParts?.TotalPartsCount).toBe(3);
  });

  it('checks a SHA256 multipart upload at Complete, and a FULL_OBJECT CRC32C over the whole body', async () => {
    const parts = [Buffer.alloc(5 * mib, 'p'), Buffer.from('last part')];
    const upload = async (key: string, algorithm: 'SHA256' | 'CRC32C', type?: 'FULL_OBJECT') => {
      const { UploadId, ChecksumAlgorithm } = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          ChecksumAlgorithm: algorithm,
          ChecksumType: type,
        }),
      );
      expect(ChecksumAlgorithm).toBe(algorithm);
      const sent = [];
      for (const [index, part] of parts.entries()) {
        const answer = await s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            PartNumber: index + 1,
            Body: part,
            ChecksumAlgorithm: algorithm,
          }),
        );
        sent.push({
          PartNumber: index + 1,
          ETag: answer.ETag,
          [`Checksum${algorithm}`]: answer[`Checksum${algorithm}`],
        });
      }
      return { UploadId, sent };
    };
    const composite = await upload('mp/sha256', 'SHA256');
    // A part's checksum left out: refused, as S3 refuses it.
    await expect(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'mp/sha256',
          UploadId: composite.UploadId,
          MultipartUpload: { Parts: composite.sent.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidRequest' });
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp/sha256',
        UploadId: composite.UploadId,
        MultipartUpload: { Parts: composite.sent },
      }),
    );
    const expected = `${await checksumOf(
      'SHA256',
      Buffer.concat(parts.map((part) => Buffer.from(sha256(part), 'base64'))),
    )}-2`;
    expect(done).toMatchObject({ ChecksumSHA256: expected, ChecksumType: 'COMPOSITE' });

    const full = await upload('mp/crc32c', 'CRC32C', 'FULL_OBJECT');
    const listed = await s3.send(
      new ListPartsCommand({ Bucket: bucket, Key: 'mp/crc32c', UploadId: full.UploadId }),
    );
    expect(listed.Parts?.map((part) => part.ChecksumCRC32C)).toEqual(
      await Promise.all(parts.map((part) => checksumOf('CRC32C', part))),
    );
    const fullDone = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp/crc32c',
        UploadId: full.UploadId,
        MultipartUpload: { Parts: full.sent },
      }),
    );
    expect(fullDone).toMatchObject({
      ChecksumCRC32C: await checksumOf('CRC32C', Buffer.concat(parts)),
      ChecksumType: 'FULL_OBJECT',
    });
    const get = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'mp/crc32c', ChecksumMode: 'ENABLED' }),
    );
    expect(Buffer.from(await get.Body!.transformToByteArray()).equals(Buffer.concat(parts))).toBe(true);
  });

  it("gives a copy the source's algorithm, over the whole body", async () => {
    const body = 'copied with its checksum';
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'copy/source', Body: body, ChecksumAlgorithm: 'SHA1' }),
    );
    const copy = await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'copy/target', CopySource: `${bucket}/copy/source` }),
    );
    expect(copy.CopyObjectResult?.ChecksumSHA1).toBe(await checksumOf('SHA1', Buffer.from(body)));
  });

  it('keeps one whole part of two uploads of the same number at once: the last to finish', async () => {
    const key = 'race/part';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const bodies = [Buffer.alloc(2 * mib, 'a'), Buffer.alloc(2 * mib, 'b')];
    const answers = await Promise.all(
      bodies.map((Body) =>
        s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body })),
      ),
    );
    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
    expect(listed.Parts).toHaveLength(1);
    const kept = answers.findIndex((answer) => answer.ETag === listed.Parts?.[0]?.ETag);
    expect(kept).toBeGreaterThanOrEqual(0);
    await expect(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: answers[1 - kept]?.ETag }] },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidPart' });
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: answers[kept]?.ETag }] },
      }),
    );
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(Buffer.from(await Body!.transformToByteArray()).equals(bodies[kept]!)).toBe(true);
  });

  it('answers non-ASCII metadata RFC 2047-encoded, as S3 does', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'meta',
        Body: 'm',
        Metadata: { latin: 'café', word: '=?UTF-8?B?5Lit5paH?=', ascii: 'plain' },
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta' }));
    expect(head.Metadata).toEqual({
      // The SDK sends UTF-8 bytes; S3 takes each header byte as one character, then encodes.
      latin: `=?UTF-8?B?${Buffer.from(Buffer.from('café').toString('latin1')).toString('base64')}?=`,
      word: '=?UTF-8?B?5Lit5paH?=',
      ascii: 'plain',
    });
  });
});
