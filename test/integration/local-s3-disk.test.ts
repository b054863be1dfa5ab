import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Child, contentMd5, contentRange, contentStream, mib } from '../support/s3-child';
import { DiskS3Store } from '../../local/s3/store';

/**
 * The local S3 in a process of its own, on sizes that show whether bodies stream: by default a
 * 256 MiB multipart upload and a 100 MiB single PUT (LONGTAIL_S3_BIG_MB=1024 for the 1 GB run).
 * Memory is asserted as a ratio of the object's size; times are only reported.
 */
const bigMiB = Number(process.env.LONGTAIL_S3_BIG_MB ?? 256);
const singleMiB = Number(process.env.LONGTAIL_S3_SINGLE_MB ?? 100);
/** The 1 GB run takes about 40 s on two shared cores: more than jest's default per test. */
const bigTimeoutMs = Math.max(30_000, bigMiB * 200);
/** RSS growth while streaming an object, at most this share of its size (a buffering store: ≥ 1). */
const maxGrowthRatio = 0.2;

const readAll = async (body: AsyncIterable<Uint8Array>) => {
  const hash = createHash('md5');
  let size = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { md5: hash.digest('hex'), size };
};

const tmpFilesOf = (dir: string) => (existsSync(join(dir, '_tmp')) ? readdirSync(join(dir, '_tmp')) : []);

describe('the local S3 on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'longtail-s3-'));
  let child = new S3Child(dir);

  beforeAll(async () => {
    await child.start();
    await child.client().send(new CreateBucketCommand({ Bucket: 'big' }));
    // Warm the process up (first request, first write) before measuring its baseline.
    await child.client().send(new PutObjectCommand({ Bucket: 'big', Key: 'warm', Body: Buffer.alloc(mib) }));
  });

  afterAll(async () => {
    await child.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    `streams a ${bigMiB} MiB multipart upload (lib-storage) in and out in flat memory`,
    async () => {
      const s3 = child.client();
      const baseline = child.rssBytes();
      const upload = await child.peakRssDuring(() =>
        new Upload({
          client: s3,
          params: { Bucket: 'big', Key: 'multipart.bin', Body: contentStream(bigMiB) },
          partSize: 16 * mib,
          queueSize: 4,
        }).done(),
      );
      expect(upload.result.ETag).toMatch(new RegExp(`^"[0-9a-f]{32}-${Math.ceil(bigMiB / 16)}"$`));
      const download = await child.peakRssDuring(async () => {
        const { Body, ContentLength } = await s3.send(
          new GetObjectCommand({ Bucket: 'big', Key: 'multipart.bin' }),
        );
        expect(ContentLength).toBe(bigMiB * mib);
        return readAll(Body as AsyncIterable<Uint8Array>);
      });
      expect(download.result).toEqual({ md5: contentMd5(bigMiB), size: bigMiB * mib });

      const size = bigMiB * mib;
      for (const [start, end] of [
        [0, 99],
        [mib - 3, mib + 5],
        [size - 1000, size - 1],
        [17 * mib + 12345, 33 * mib],
      ] as const) {
        const { Body, ContentRange } = await s3.send(
          new GetObjectCommand({ Bucket: 'big', Key: 'multipart.bin', Range: `bytes=${start}-${end}` }),
        );
        expect(ContentRange).toBe(`bytes ${start}-${end}/${size}`);
        expect(Buffer.from(await Body!.transformToByteArray()).equals(contentRange(start, end))).toBe(true);
      }
      const growth = Math.max(upload.peak, download.peak) - baseline;
      console.log(
        `local S3, ${bigMiB} MiB multipart: RSS baseline ${(baseline / mib).toFixed(0)} MiB, ` +
          `peak upload +${((upload.peak - baseline) / mib).toFixed(0)} MiB, download +${((download.peak - baseline) / mib).toFixed(0)} MiB`,
      );
      expect(growth / size).toBeLessThan(maxGrowthRatio);
    },
    bigTimeoutMs,
  );

  it(`takes a ${singleMiB} MiB single PUT (aws-chunked with a CRC32 trailer) in flat memory`, async () => {
    const s3 = child.client();
    const baseline = child.rssBytes();
    const put = await child.peakRssDuring(() =>
      s3.send(
        new PutObjectCommand({
          Bucket: 'big',
          Key: 'single.bin',
          Body: contentStream(singleMiB),
          ContentLength: singleMiB * mib,
        }),
      ),
    );
    expect(put.result.ETag).toBe(`"${contentMd5(singleMiB)}"`);
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: 'big', Key: 'single.bin' }));
    expect(await readAll(Body as AsyncIterable<Uint8Array>)).toEqual({
      md5: contentMd5(singleMiB),
      size: singleMiB * mib,
    });
    console.log(
      `local S3, ${singleMiB} MiB single PUT: RSS +${((put.peak - baseline) / mib).toFixed(0)} MiB`,
    );
    expect((put.peak - baseline) / (singleMiB * mib)).toBeLessThan(maxGrowthRatio);
  });

  it('starts without loading what it stores', async () => {
    const stored = statSync(join(dir, '_blobs')).isDirectory()
      ? readdirSync(join(dir, '_blobs')).flatMap((shard) =>
          readdirSync(join(dir, '_blobs', shard)).map(
            (blob) => statSync(join(dir, '_blobs', shard, blob)).size,
          ),
        )
      : [];
    const storedBytes = stored.reduce((sum, size) => sum + size, 0);
    const emptyDir = mkdtempSync(join(tmpdir(), 'longtail-s3-empty-'));
    const empty = await new S3Child(emptyDir).start();
    const emptyRss = empty.rssBytes();
    await empty.stop();
    rmSync(emptyDir, { recursive: true, force: true });

    await child.stop();
    child = await new S3Child(dir).start();
    const { Body } = await child
      .client()
      .send(new GetObjectCommand({ Bucket: 'big', Key: 'single.bin', Range: 'bytes=0-9' }));
    expect(Buffer.from(await Body!.transformToByteArray()).equals(contentRange(0, 9))).toBe(true);
    const rss = child.rssBytes();
    console.log(
      `local S3 restart with ${(storedBytes / mib).toFixed(0)} MiB stored: listening after ${child.startMs.toFixed(0)} ms ` +
        `(empty store: ${empty.startMs.toFixed(0)} ms), RSS ${(rss / mib).toFixed(0)} MiB (empty store: ${(emptyRss / mib).toFixed(0)} MiB)`,
    );
    expect(storedBytes).toBeGreaterThan((bigMiB + singleMiB) * mib);
    // What it holds after a restart does not grow with what it stores.
    expect((rss - emptyRss) / storedBytes).toBeLessThan(0.05);
  });

  it('shows no half-written object after a SIGKILL mid-upload, and is consistent at the next start', async () => {
    const s3 = child.client();
    await s3.send(new PutObjectCommand({ Bucket: 'big', Key: 'victim', Body: 'the old body' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'big', Key: 'parts' }));
    const { ETag: firstPart } = await s3.send(
      new UploadPartCommand({
        Bucket: 'big',
        Key: 'parts',
        UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(5 * mib, 1),
      }),
    );

    // Two uploads under way (an overwrite and a part), each paused after 8 MiB: then the kill.
    let resume = () => undefined as void;
    const paused = new Promise<void>((done) => (resume = done));
    const pauseAt8 = async (index: number) => {
      if (index === 8) await paused;
    };
    const overwrite = s3
      .send(
        new PutObjectCommand({
          Bucket: 'big',
          Key: 'victim',
          Body: contentStream(32, pauseAt8),
          ContentLength: 32 * mib,
        }),
      )
      .catch((error: Error) => error);
    const part = s3
      .send(
        new UploadPartCommand({
          Bucket: 'big',
          Key: 'parts',
          UploadId,
          PartNumber: 2,
          Body: contentStream(32, pauseAt8),
          ContentLength: 32 * mib,
        }),
      )
      .catch((error: Error) => error);
    const deadline = Date.now() + 20_000;
    while (tmpFilesOf(dir).filter((name) => statSync(join(dir, '_tmp', name)).size >= 4 * mib).length < 2) {
      if (Date.now() > deadline) throw new Error('the uploads never reached the disk');
      await new Promise((done) => setTimeout(done, 20));
    }
    await child.stop('SIGKILL');
    resume();
    expect(await overwrite).toBeInstanceOf(Error);
    expect(await part).toBeInstanceOf(Error);
    expect(tmpFilesOf(dir).length).toBeGreaterThanOrEqual(2);

    child = await new S3Child(dir).start();
    const again = child.client();
    expect(tmpFilesOf(dir)).toEqual([]);
    const { Body } = await again.send(new GetObjectCommand({ Bucket: 'big', Key: 'victim' }));
    expect(await Body!.transformToString()).toBe('the old body');
    const { Parts = [] } = await again.send(new ListPartsCommand({ Bucket: 'big', Key: 'parts', UploadId }));
    expect(Parts.map((p) => [p.PartNumber, p.ETag, p.Size])).toEqual([[1, firstPart, 5 * mib]]);
    const { Contents = [] } = await again.send(new ListObjectsV2Command({ Bucket: 'big' }));
    for (const object of Contents) {
      const head = await again.send(new HeadObjectCommand({ Bucket: 'big', Key: object.Key }));
      expect(head.ContentLength).toBe(object.Size);
    }
  });
});

describe('a data folder of the flat layout (before the store on disk)', () => {
  it('is moved into the store at start, bodies by rename', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'longtail-s3-flat-'));
    const bucket = join(dir, 'longtail-local-inputs');
    mkdirSync(bucket, { recursive: true });
    const objects = { 'drop/a.csv': 'id,x\n1,2\n', 'b c/d.json': '{"e":1}' };
    for (const [key, body] of Object.entries(objects)) {
      const name = createHash('sha256').update(key).digest('hex');
      writeFileSync(join(bucket, `${name}.bin`), body);
      writeFileSync(
        join(bucket, `${name}.json`),
        JSON.stringify({
          key,
          contentType: 'text/csv',
          contentLength: body.length,
          etag: `"${createHash('md5').update(body).digest('hex')}"`,
          lastModified: '2026-11-25T10:00:00.000Z',
          metadata: { owner: 'alice' },
        }),
      );
    }
    writeFileSync(join(bucket, `${'f'.repeat(64)}.bin`), 'a body the old store never committed');

    const store = await DiskS3Store.open(dir);
    try {
      expect(existsSync(bucket)).toBe(false);
      for (const [key, body] of Object.entries(objects)) {
        const record = await store.head('longtail-local-inputs', key);
        expect(record).toMatchObject({
          size: body.length,
          etag: `"${createHash('md5').update(body).digest('hex')}"`,
          lastModified: '2026-11-25T10:00:00.000Z',
          headers: { 'content-type': 'text/csv' },
          metadata: { owner: 'alice' },
        });
        const { body: stream } = await store.open('longtail-local-inputs', key);
        expect((await readAll(stream)).size).toBe(body.length);
      }
      const page = await store.list('longtail-local-inputs', {
        prefix: '',
        delimiter: '/',
        after: '',
        maxKeys: 10,
      });
      expect(page.commonPrefixes).toEqual(['b c/', 'drop/']);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
