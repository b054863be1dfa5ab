import type { PlannedObjects } from '../../lib/domain/job-plan';
import type { DecodedRecord } from '../../lib/records/decode';
import { fetchListedObjects } from '../../gpu-container/src/object-records';
import type { FetchedObject } from '../../gpu-container/src/object-records';
import { InMemoryObjectStore } from '../fixtures/in-memory';

const planned: PlannedObjects = { bucket: 'in', imageField: 'image', relativeTo: '', outputs: 'joined' };

async function* listingOf(lines: object[]): AsyncGenerator<DecodedRecord[]> {
  yield lines.map((value, i) => ({ line: i + 1, raw: JSON.stringify(value), ok: true, value }));
}

const collect = async (source: AsyncIterable<FetchedObject>) => {
  const all: FetchedObject[] = [];
  for await (const fetched of source) all.push(fetched);
  return all;
};

describe('reading listed objects ahead of the model', () => {
  it('yields each object in listing order, and fails the gone, empty and too large alone', async () => {
    const objects = new InMemoryObjectStore();
    for (const key of ['a', 'c', 'e']) objects.put({ bucket: 'in', key }, Buffer.from(`bytes of ${key}`));
    objects.put({ bucket: 'in', key: 'empty' }, Buffer.alloc(0));
    objects.put({ bucket: 'in', key: 'huge-unlisted-size' }, Buffer.alloc(2000));

    const fetched = await collect(
      fetchListedObjects(
        listingOf([
          { key: 'a', size: 9 },
          { key: 'gone', size: 5 },
          { key: 'c' },
          { key: 'huge', size: 5000 },
          { key: 'empty', size: 0 },
          { key: 'huge-unlisted-size' },
          { key: 'e', size: 9 },
        ]),
        { objects, planned, concurrency: 3, maxBytesAhead: 1 << 20, maxObjectBytes: 1000 },
      ),
    );

    expect(
      fetched.map((f) =>
        f.ok ? [f.record.line, (f.record.input.image as Buffer).toString()] : [f.line, f.code],
      ),
    ).toEqual([
      [1, 'bytes of a'],
      [2, 'OBJECT_NOT_FOUND'],
      [3, 'bytes of c'],
      [4, 'OBJECT_TOO_LARGE'],
      [5, 'INVALID_IMAGE'],
      [6, 'OBJECT_TOO_LARGE'],
      [7, 'bytes of e'],
    ]);
    const first = fetched[0] as Extract<FetchedObject, { ok: true }>;
    expect(first.record.value).toEqual({ key: 'a', etag: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(first.record.bytes).toBe(10);
  });

  it('keeps at most `concurrency` reads and `maxBytesAhead` bytes in flight', async () => {
    const objects = new InMemoryObjectStore();
    for (let i = 0; i < 40; i++) objects.put({ bucket: 'in', key: `k${i}` }, Buffer.alloc(100));
    let inFlight = 0;
    let most = 0;
    const read = objects.readObject.bind(objects);
    objects.readObject = async (location, max) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight--;
      return read(location, max);
    };
    const listing = Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, size: 100 }));

    await collect(
      fetchListedObjects(listingOf(listing), {
        objects,
        planned,
        concurrency: 5,
        maxBytesAhead: 1 << 20,
        maxObjectBytes: 1000,
      }),
    );
    const byCount = most;
    most = 0;
    await collect(
      fetchListedObjects(listingOf(listing), {
        objects,
        planned,
        concurrency: 5,
        maxBytesAhead: 250,
        maxObjectBytes: 1000,
      }),
    );

    expect(byCount).toBe(5);
    expect(most).toBe(2);
  });
});
