import { S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';

const projectRoot = resolve(__dirname, '../..');
export const mib = 1024 * 1024;

/** The local S3 (local/s3/main.ts) in a process of its own, so that its RSS can be read and it can be killed. */
export class S3Child {
  process!: ChildProcess;
  url = '';
  /** Milliseconds from spawn to listening. */
  startMs = 0;

  constructor(readonly dir: string) {}

  async start() {
    const startedAt = performance.now();
    this.process = spawn(
      process.execPath,
      ['--import', 'tsx', join(projectRoot, 'local/s3/main.ts'), this.dir],
      {
        cwd: projectRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    this.url = await new Promise<string>((done, fail) => {
      let out = '';
      this.process.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = /^(http:\/\/\S+)\n/m.exec(out);
        if (line?.[1]) done(line[1]);
      });
      this.process.once('exit', (code) =>
        fail(new Error(`the local S3 exited with ${code} before listening`)),
      );
    });
    this.startMs = performance.now() - startedAt;
    return this;
  }

  client() {
    return new S3Client({
      endpoint: this.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  }

  /** Resident memory of the process (Linux: /proc/<pid>/status). */
  rssBytes() {
    const status = readFileSync(`/proc/${this.process.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  }

  /** Samples RSS every 20 ms while `task` runs; the task's result and the highest sample. */
  async peakRssDuring<T>(task: () => Promise<T>) {
    let peak = this.rssBytes();
    const timer = setInterval(() => (peak = Math.max(peak, this.rssBytes())), 20);
    try {
      const result = await task();
      return { result, peak: Math.max(peak, this.rssBytes()) };
    } finally {
      clearInterval(timer);
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM') {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise((done) => this.process.once('exit', done));
    this.process.kill(signal);
    await exited;
  }
}

/** Deterministic content: 1 MiB blocks, each filled from its index, so any range can be checked. */
export const blockOf = (index: number) => {
  const block = Buffer.alloc(mib);
  for (let at = 0; at < mib; at += 4) block.writeUInt32LE((index * 2654435761 + at) >>> 0, at);
  return block;
};

/** `sizeMiB` of that content as a stream (generated as read: the test holds none of it). */
export const contentStream = (sizeMiB: number, pause?: (index: number) => Promise<void>) =>
  Readable.from(
    (async function* () {
      for (let index = 0; index < sizeMiB; index++) {
        if (pause) await pause(index);
        yield blockOf(index);
      }
    })(),
  );

export const contentMd5 = (sizeMiB: number) => {
  const hash = createHash('md5');
  for (let index = 0; index < sizeMiB; index++) hash.update(blockOf(index));
  return hash.digest('hex');
};

/** Bytes [start, end] of that content. */
export const contentRange = (start: number, end: number) => {
  const parts: Buffer[] = [];
  for (let index = Math.floor(start / mib); index * mib <= end; index++) {
    const block = blockOf(index);
    parts.push(block.subarray(Math.max(0, start - index * mib), Math.min(mib, end - index * mib + 1)));
  }
  return Buffer.concat(parts);
};
