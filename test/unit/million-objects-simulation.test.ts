import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ObjectInfo, ObjectStore } from '../../lib/ports/object-store';
import type { S3Location } from '../../lib/domain/s3-location';
import { buildJobPlan } from '../../lib/use-cases/steps/job-planner';
import { testResources } from '../fixtures/env';
import { aJob } from '../fixtures/jobs';

/**
 * A folder of a million images, planned through a store that generates its listing page by page
 * (S3's 1,000 keys a page, each page a request) and keeps of the uploaded listing only its size:
 * planning must make a request a page, hold nothing a key beyond a size and an offset, and cut
 * the list into balanced shards.
 */
const inputs = testResources.inputsBucket;
const outputs = testResources.outputsBucket;
const objectCount = 1_000_000;
// A full collection on demand, so that what is measured is what planning keeps, not garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const liveHeap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

const sizeOf = (i: number) => (i % 100 === 0 ? 8_000_000 : 3_000 + (i % 7) * 500);

class MillionImagesStore {
  requests = 0;
  uploadedBytes = 0;
  /** The most heap live after a full collection, sampled as the listing is read. */
  heapPeak = 0;

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    if (bucket !== inputs || prefix !== 'photos/') return;
    for (let i = 0; i < objectCount; i++) {
      if (i % 1000 === 0) this.requests++;
      if (i % 100_000 === 99_999) this.heapPeak = Math.max(this.heapPeak, liveHeap());
      yield { key: `photos/${String(i).padStart(7, '0')}.jpg`, size: sizeOf(i), etag: 'e'.repeat(32) };
    }
  }

  async upload(_location: S3Location, body: Readable) {
    this.requests++;
    for await (const chunk of body) this.uploadedBytes += (chunk as Buffer).length;
  }
}

describe('a million image objects, simulated', () => {
  it('plans with a request a listing page, in bounded memory, into balanced shards', async () => {
    const store = new MillionImagesStore();
    const job = aJob({
      jobId: 'job-1',
      status: 'running',
      input: { type: 's3', s3Uri: `s3://${inputs}/photos/`, s3DataType: 'S3Prefix' },
      inputUri: `s3://${inputs}/photos/`,
      outputUri: `s3://${outputs}/outputs/job-1/`,
      failureUri: `s3://${outputs}/outputs/job-1/`,
    });
    const heapBefore = liveHeap();

    const plan = await buildJobPlan(
      { ...job, options: { ...job.options, maxShards: 1000 } },
      { name: 'text-orientation', imageField: 'image' },
      { objects: store as unknown as ObjectStore, inputsBucket: inputs, outputsBucket: outputs },
    );

    // Every page once (the first, looked at to tell images from record files, is not asked for
    // again), and the listing's upload.
    expect(store.requests).toBe(objectCount / 1000 + 1);
    expect(plan.totalRecords).toBe(objectCount);
    expect(plan.files[0]?.bytes).toBe(store.uploadedBytes);
    // Planned 1,000 shards by bytes (~113 GB at 64 MiB would want 1,690): at most maxShards.
    expect(plan.shards).toHaveLength(1000);
    const counts = plan.shards.map(
      (shard, i) => (plan.shards[i + 1]?.firstLine ?? objectCount + 1) - shard.firstLine,
    );
    expect(Math.max(...counts) / Math.min(...counts)).toBeLessThan(1.1);
    // What planning keeps a key: its line's offset and its size (16 bytes), not the key.
    expect((store.heapPeak - heapBefore) / objectCount).toBeLessThan(40);
  }, 60_000);
});
