import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Event } from 'aws-lambda';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestStack } from '../support/local-stack';

const mib = 1024 * 1024;
const md5 = (body: Buffer | string) => createHash('md5').update(body).digest('hex');
const hasAwsCli = (() => {
  try {
    execFileSync('aws', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Each S3 feature the runtime and its users rely on, through the local stack's AWS endpoint. */
describe('the local stack S3', () => {
  const local = new TestStack();
  const events: S3Event[] = [];
  let bucket = '';

  beforeAll(async () => {
    await local.start({ registerExampleModels: false });
    bucket = local.stack.names.outputsBucket;
    local.stack.onS3Notification((event) => events.push(event));
  });

  afterAll(async () => {
    await local.stop();
    local.cleanUp();
  });

  it('keeps content type, user metadata and an MD5 ETag; HEAD and ranged GET read them', async () => {
    const s3 = local.s3;
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'features/a b+c.txt',
        Body: 'hello, local S3',
        ContentType: 'text/plain; charset=utf-8',
        Metadata: { origin: 'test', 'two-words': 'x y' },
      }),
    );
    expect(put.ETag).toBe(`"${md5('hello, local S3')}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'features/a b+c.txt' }));
    expect(head).toMatchObject({
      ContentLength: 15,
      ContentType: 'text/plain; charset=utf-8',
      Metadata: { origin: 'test', 'two-words': 'x y' },
      ETag: put.ETag,
    });
    const ranged = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'features/a b+c.txt', Range: 'bytes=7-' }),
    );
    expect(ranged.ContentRange).toBe('bytes 7-14/15');
    expect(await ranged.Body!.transformToString()).toBe('local S3');
    await expect(
      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'features/none' })),
    ).rejects.toMatchObject({
      name: 'NoSuchKey',
    });
  });

  it('takes a single PUT far over the old 11 MiB limit', async () => {
    const body = Buffer.alloc(24 * mib, 7);
    const put = await local.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'features/24mib', Body: body }),
    );
    expect(put.ETag).toBe(`"${md5(body)}"`);
    const head = await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'features/24mib' }));
    expect(head.ContentLength).toBe(24 * mib);
  });

  it('copies objects whole and by part ranges; a multipart ETag ends in -N', async () => {
    const s3 = local.s3;
    const source = Buffer.concat([Buffer.alloc(6 * mib, 1), Buffer.alloc(3 * mib, 2)]);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'features/source',
        Body: source,
        Metadata: { kept: 'yes' },
      }),
    );
    const copy = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'features/copy',
        CopySource: `${bucket}/features/source`,
      }),
    );
    expect(copy.CopyObjectResult?.ETag).toBe(`"${md5(source)}"`);
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'features/copy' }))).Metadata).toEqual(
      { kept: 'yes' },
    );

    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'features/assembled' }),
    );
    const first = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: 'features/assembled',
        UploadId,
        PartNumber: 1,
        CopySource: `${bucket}/features/source`,
        CopySourceRange: `bytes=0-${6 * mib - 1}`,
      }),
    );
    const second = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'features/assembled',
        UploadId,
        PartNumber: 2,
        Body: 'tail',
      }),
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'features/assembled',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: first.CopyPartResult?.ETag },
            { PartNumber: 2, ETag: second.ETag },
          ],
        },
      }),
    );
    const partMd5s = Buffer.concat([
      Buffer.from(md5(source.subarray(0, 6 * mib)), 'hex'),
      Buffer.from(md5('tail'), 'hex'),
    ]);
    expect(done.ETag).toBe(`"${md5(partMd5s)}-2"`);
    const whole = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'features/assembled' }));
    expect(
      Buffer.from(await whole.Body!.transformToByteArray()).equals(
        Buffer.concat([source.subarray(0, 6 * mib), Buffer.from('tail')]),
      ),
    ).toBe(true);
  });

  it('lists with a prefix, a delimiter and pages', async () => {
    const s3 = local.s3;
    const keys = ['list/a/1', 'list/a/2', 'list/b', 'list/c/d/e', 'list/c/f', 'list/d'];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    const seen: { keys: string[]; prefixes: string[] }[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: 'list/',
          Delimiter: '/',
          MaxKeys: 2,
          ContinuationToken,
        }),
      );
      seen.push({
        keys: (page.Contents ?? []).map((o) => o.Key ?? ''),
        prefixes: (page.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
      });
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
    expect(seen).toEqual([
      { keys: ['list/b'], prefixes: ['list/a/'] },
      { keys: ['list/d'], prefixes: ['list/c/'] },
    ]);
    const nested = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/c/', Delimiter: '/' }),
    );
    expect((nested.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['list/c/d/']);
    expect((nested.Contents ?? []).map((o) => o.Key)).toEqual(['list/c/f']);
  });

  it('refuses conditional writes whose condition does not hold', async () => {
    const s3 = local.s3;
    const first = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'cond/once', Body: 'first', IfNoneMatch: '*' }),
    );
    await expect(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/once', Body: 'second', IfNoneMatch: '*' })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    await expect(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/once', Body: 'third', IfMatch: '"0"' })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'cond/once', Body: 'fourth', IfMatch: first.ETag }),
    );
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond/once' }));
    expect(await Body!.transformToString()).toBe('fourth');
  });

  it('deletes one object and many', async () => {
    const s3 = local.s3;
    for (const key of ['del/1', 'del/2', 'del/3'])
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del/1' }));
    const many = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: [{ Key: 'del/2' }, { Key: 'del/3' }, { Key: 'del/none' }] },
      }),
    );
    expect((many.Deleted ?? []).map((d) => d.Key).sort()).toEqual(['del/2', 'del/3', 'del/none']);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'del/' }));
    expect(left.KeyCount).toBe(0);
  });

  it('serves presigned PUT and GET URLs', async () => {
    const s3 = local.s3;
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'presigned/x.txt' }), {
      expiresIn: 60,
    });
    const put = await fetch(putUrl, { method: 'PUT', body: 'sent by URL' });
    expect(put.status).toBe(200);
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'presigned/x.txt' }), {
      expiresIn: 60,
    });
    const get = await fetch(getUrl);
    expect(await get.text()).toBe('sent by URL');
  });

  it('raises ObjectCreated events for puts, copies and completed uploads to the inputs bucket', async () => {
    const s3 = local.s3;
    const inputs = local.stack.names.inputsBucket;
    events.length = 0;
    await s3.send(new PutObjectCommand({ Bucket: inputs, Key: 'notes/put.txt', Body: 'p' }));
    await s3.send(
      new CopyObjectCommand({ Bucket: inputs, Key: 'notes/copy.txt', CopySource: `${inputs}/notes/put.txt` }),
    );
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: inputs, Key: 'notes/mp.txt' }),
    );
    const part = await s3.send(
      new UploadPartCommand({ Bucket: inputs, Key: 'notes/mp.txt', UploadId, PartNumber: 1, Body: 'm' }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: inputs,
        Key: 'notes/mp.txt',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'notes/elsewhere.txt', Body: 'not inputs' }));
    expect(events.map((e) => [e.Records[0]?.eventName, e.Records[0]?.s3.object.key])).toEqual([
      ['ObjectCreated:Put', 'notes/put.txt'],
      ['ObjectCreated:Copy', 'notes/copy.txt'],
      ['ObjectCreated:CompleteMultipartUpload', 'notes/mp.txt'],
    ]);
  });

  // The AWS CLI is not installed everywhere the suite runs; where it is, it must work unchanged.
  (hasAwsCli ? describe : describe.skip)('with the AWS CLI', () => {
    it('works with the AWS CLI (multipart upload and download)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'longtail-cli-'));
      try {
        const file = join(dir, 'upload.bin');
        writeFileSync(file, Buffer.alloc(20 * mib, 3));
        const env = {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_DEFAULT_REGION: 'us-east-1',
        };
        // Not execFileSync: the endpoint answering the CLI runs in this process.
        const aws = async (...args: string[]) =>
          (await promisify(execFile)('aws', ['--endpoint-url', local.stack.awsEndpoint, ...args], { env }))
            .stdout;
        await aws('s3', 'cp', file, `s3://${bucket}/cli/upload.bin`);
        await aws('s3', 'cp', `s3://${bucket}/cli/upload.bin`, join(dir, 'download.bin'));
        expect(md5(readFileSync(join(dir, 'download.bin')))).toBe(md5(readFileSync(file)));
        expect(await aws('s3', 'ls', `s3://${bucket}/cli/`)).toContain('upload.bin');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
