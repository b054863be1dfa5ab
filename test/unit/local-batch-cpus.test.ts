import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBatch } from '../../local/batch';

const logDir = mkdtempSync(join(tmpdir(), 'longtail-batch-cpus-'));
afterAll(() => rmSync(logDir, { recursive: true, force: true }));

/** A container that says the share of vCPUs it was started with. */
const batchOf = (environment: Record<string, string> = {}) =>
  new LocalBatch({
    entrypoint: [process.execPath, '-e', 'console.log(`threads=${process.env.LONGTAIL_INTRA_OP_THREADS}`)'],
    cwd: process.cwd(),
    baseEnvironment: { PATH: process.env.PATH ?? '' },
    jobDefinition: { command: [], environment, attempts: 1, evaluateOnExit: [] },
    logDir,
    concurrency: 2,
    cpus: 4,
  });

const sharesOf = (jobName: string) =>
  readdirSync(join(logDir, jobName))
    .sort()
    .map((file) => /threads=(\S+)/.exec(readFileSync(join(logDir, jobName, file), 'utf8'))?.[1]);

const submit = (batch: LocalBatch, jobName: string, size?: number) =>
  batch.submitJobSync({
    JobName: jobName,
    JobQueue: 'local',
    JobDefinition: 'worker',
    ...(size ? { ArrayProperties: { Size: size } } : {}),
  });

describe('the local Batch shares the host’s vCPUs among the containers it runs', () => {
  it('gives a job alone every vCPU, and two children started together half each', async () => {
    const batch = batchOf();
    await submit(batch, 'alone');
    await submit(batch, 'pair', 2);

    expect(sharesOf('alone')).toEqual(['4']);
    expect(sharesOf('pair')).toEqual(['2', '2']);
  });

  it('counts the children waiting for a slot, and leaves a share the job definition sets', async () => {
    await submit(batchOf(), 'three', 3);
    await submit(batchOf({ LONGTAIL_INTRA_OP_THREADS: '3' }), 'set', 2);

    // Two run at once; the third starts when one ends, beside the other.
    expect(sharesOf('three')).toEqual(['2', '2', '2']);
    expect(sharesOf('set')).toEqual(['3', '3']);
  });
});
