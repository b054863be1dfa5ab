import './quiet';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startS3Server } from '../local/s3/server';
import { DiskS3Store } from '../local/s3/store';
import { persistentS3StoreClass } from './baseline/fauxqs-s3-store';
import type { S3StoreLike } from './baseline/fauxqs-s3-store';

/**
 * `npm run bench:s3`: the local S3 before (fauxqs in memory, written through to disk) and now
 * (local/s3, on disk, streamed), side by side in one run, on what the worker does with it:
 * ranged reads of an input (a shard's byte ranges), whole reads, single PUTs of small output
 * parts and multipart uploads of large outputs. Rounds alternate between the stores; the
 * median round is reported, with the ratio now/before.
 */

const mib = 1024 * 1024;
const quick = process.argv.includes('--quick');
const rounds = quick ? 3 : 5;
const inputMiB = quick ? 32 : 64;
const outputMiB = quick ? 32 : 64;

interface Endpoint {
  name: string;
  url: string;
  stop(): Promise<void>;
}

const fauxqsModule = (path: string) => join(resolve(__dirname, '..'), 'node_modules/fauxqs/dist', path);

const startBefore = async (dir: string): Promise<Endpoint> => {
  const { S3Store } = (await import(fauxqsModule('s3/s3Store.js'))) as { S3Store: new () => S3StoreLike };
  const Persistent = persistentS3StoreClass(S3Store);
  const { buildApp } = await import('fauxqs');
  const app = buildApp({ logger: false, stores: { s3Store: new Persistent(dir) } } as never);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    name: 'before (fauxqs + write-through)',
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    stop: () => app.close(),
  };
};

const startNow = async (dir: string): Promise<Endpoint> => {
  const store = await DiskS3Store.open(dir);
  const server = await startS3Server(store);
  return {
    name: 'now (local/s3 on disk)',
    url: server.url,
    stop: async () => {
      await server.close();
      await store.close();
    },
  };
};

const clientOf = (url: string) =>
  new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

const drain = async (body: AsyncIterable<Uint8Array>) => {
  let size = 0;
  for await (const chunk of body) size += chunk.length;
  return size;
};

/** MiB/s of each worker-shaped operation against one endpoint. */
const measure = async (s3: S3Client, round: number) => {
  const rates: Record<string, number> = {};
  const timed = async (name: string, bytes: number, task: () => Promise<unknown>) => {
    const start = performance.now();
    await task();
    rates[name] = bytes / mib / ((performance.now() - start) / 1000);
  };
  const input = Buffer.alloc(inputMiB * mib, round);
  // In parts: the store before refuses single PUTs over 11 MiB.
  await new Upload({
    client: s3,
    params: { Bucket: 'bench', Key: 'input', Body: input },
    partSize: 8 * mib,
  }).done();
  await timed('ranged reads (1 MiB, as a shard reads)', inputMiB * mib, async () => {
    for (let at = 0; at < inputMiB * mib; at += 4 * mib) {
      await Promise.all(
        [0, 1, 2, 3].map(async (i) => {
          const start = at + i * mib;
          const { Body } = await s3.send(
            new GetObjectCommand({
              Bucket: 'bench',
              Key: 'input',
              Range: `bytes=${start}-${start + mib - 1}`,
            }),
          );
          await drain(Body as AsyncIterable<Uint8Array>);
        }),
      );
    }
  });
  await timed('whole read', inputMiB * mib, async () => {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: 'input' }));
    await drain(Body as AsyncIterable<Uint8Array>);
  });
  const small = Buffer.alloc(256 * 1024, 1);
  await timed('single PUTs (256 KiB outputs)', 64 * small.length, async () => {
    for (let i = 0; i < 64; i++)
      await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `out/${i}`, Body: small }));
  });
  await timed(`multipart upload (${outputMiB} MiB, 8 MiB parts)`, outputMiB * mib, () =>
    new Upload({
      client: s3,
      params: { Bucket: 'bench', Key: 'output', Body: Buffer.alloc(outputMiB * mib, 2) },
      partSize: 8 * mib,
      queueSize: 4,
    }).done(),
  );
  return rates;
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const main = async () => {
  const dirs = [
    mkdtempSync(join(tmpdir(), 'bench-s3-before-')),
    mkdtempSync(join(tmpdir(), 'bench-s3-now-')),
  ];
  const endpoints = [await startBefore(dirs[0]!), await startNow(dirs[1]!)];
  const results = endpoints.map(() => [] as Record<string, number>[]);
  try {
    for (const endpoint of endpoints)
      await clientOf(endpoint.url).send(new CreateBucketCommand({ Bucket: 'bench' }));
    for (let round = 0; round < rounds; round++)
      for (const [index, endpoint] of endpoints.entries())
        results[index]!.push(await measure(clientOf(endpoint.url), round));
  } finally {
    for (const endpoint of endpoints) await endpoint.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  const operations = Object.keys(results[0]![0]!);
  console.log(`local S3 throughput, MiB/s (median of ${rounds} alternating rounds; ${inputMiB} MiB input)`);
  console.log(['operation', ...endpoints.map((e) => e.name), 'now / before'].join(' | '));
  for (const operation of operations) {
    const [before, now] = results.map((rounds) => median(rounds.map((r) => r[operation] ?? 0)));
    console.log([operation, before!.toFixed(0), now!.toFixed(0), (now! / before!).toFixed(2)].join(' | '));
  }
};

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
