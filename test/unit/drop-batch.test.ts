import {
  batchIdempotencyKeyOf,
  batchManifestOf,
  groupDrops,
  isImageKey,
  writeIdOf,
} from '../../lib/domain/drop-batch';
import type { DropWrite } from '../../lib/domain/drop-batch';
import { dropTargetOf } from '../../lib/use-cases/s3-drop';

const bucket = 'longtail-test-inputs';
const write = (key: string, sequencer = '01', extra: Partial<DropWrite> = {}): DropWrite => ({
  bucket,
  key,
  sequencer,
  ...extra,
});
const modelOf = (key: string) => dropTargetOf(key)?.model;
const keysOf = (writes: readonly DropWrite[]) => writes.map((w) => w.key);

describe('isImageKey', () => {
  it.each(['a.png', 'b.JPG', 'c.jpeg', 'd.WebP', 'e.tif', 'f.TIFF', 'dir.png/g.png'])(
    'takes %s as an image',
    (key) => {
      expect(isImageKey(`drop/m/${key}`)).toBe(true);
    },
  );

  it.each(['a.csv', 'b.jsonl', 'c.png.options.json', 'd.pngx', 'e', 'png', 'f.gif'])(
    'takes %s as a file of records (or not an image)',
    (key) => {
      expect(isImageKey(`drop/m/${key}`)).toBe(false);
    },
  );
});

describe('groupDrops', () => {
  it('gathers the images of a model folder into one batch, in key order, and leaves other files alone', () => {
    const grouped = groupDrops(
      [
        write('drop/resnet/b.png'),
        write('drop/resnet/nested/a.jpg'),
        write('drop/churn-risk/customers.csv'),
        write('drop/resnet/a.png'),
        write('drop/churn-risk/more.jsonl'),
      ],
      modelOf,
      1000,
    );

    expect(grouped.batches).toEqual([
      {
        bucket,
        model: 'resnet',
        writes: [write('drop/resnet/a.png'), write('drop/resnet/b.png'), write('drop/resnet/nested/a.jpg')],
      },
    ]);
    expect(keysOf(grouped.files)).toEqual(['drop/churn-risk/customers.csv', 'drop/churn-risk/more.jsonl']);
  });

  it('makes a batch per model folder', () => {
    const grouped = groupDrops(
      [write('drop/resnet/a.png'), write('drop/mobilenet/a.png'), write('drop/resnet/b.png')],
      modelOf,
      1000,
    );

    expect(grouped.batches.map((b) => [b.model, keysOf(b.writes)])).toEqual([
      ['resnet', ['drop/resnet/a.png', 'drop/resnet/b.png']],
      ['mobilenet', ['drop/mobilenet/a.png']],
    ]);
  });

  it('keeps one of the same write announced twice', () => {
    const grouped = groupDrops(
      [
        write('drop/resnet/a.png', '0A'),
        write('drop/resnet/a.png', '0A'),
        write('drop/churn-risk/x.csv', '0B'),
        write('drop/churn-risk/x.csv', '0B'),
      ],
      modelOf,
      1000,
    );

    expect(grouped.batches[0]?.writes).toHaveLength(1);
    expect(grouped.files).toHaveLength(1);
  });

  it('keeps two uploads of the same key as two writes (the manifest lists the key once)', () => {
    const [batch] = groupDrops(
      [write('drop/resnet/a.png', '0A'), write('drop/resnet/a.png', '0C')],
      modelOf,
      1000,
    ).batches;

    expect(batch?.writes.map((w) => w.sequencer)).toEqual(['0A', '0C']);
    expect(batchManifestOf(batch!)).toEqual([{ prefix: `s3://${bucket}/drop/resnet/` }, 'a.png']);
  });

  it('cuts a folder of more images than the cap into batches of at most the cap, the same way whatever the order', () => {
    const writes = Array.from({ length: 25 }, (_, i) =>
      write(`drop/resnet/${String(i).padStart(2, '0')}.png`),
    );

    const grouped = groupDrops(writes, modelOf, 10);
    const shuffled = groupDrops([...writes].reverse(), modelOf, 10);

    expect(grouped.batches.map((b) => b.writes.length)).toEqual([10, 10, 5]);
    expect(grouped.batches.flatMap((b) => keysOf(b.writes))).toEqual(keysOf(writes));
    expect(shuffled.batches).toEqual(grouped.batches);
  });

  it('starts nothing for sidecars, folder markers and keys outside drop/<model>/', () => {
    const grouped = groupDrops(
      [
        write('drop/resnet/a.png.options.json'),
        write('drop/resnet/folder/'),
        write('elsewhere/a.png'),
        write('drop/a.png'),
      ],
      modelOf,
      1000,
    );

    expect(grouped).toEqual({ batches: [], files: [] });
  });

  it('refuses a cap that is not a positive integer', () => {
    expect(() => groupDrops([], modelOf, 0)).toThrow('maxObjects');
    expect(() => groupDrops([], modelOf, 1.5)).toThrow('maxObjects');
  });
});

describe('batchIdempotencyKeyOf', () => {
  const batch = (writes: DropWrite[]) => ({ bucket, model: 'resnet', writes });

  it('is the same for the same writes in any order', () => {
    const a = write('drop/resnet/a.png', '01');
    const b = write('drop/resnet/b.png', '02');

    expect(batchIdempotencyKeyOf(batch([a, b]))).toBe(batchIdempotencyKeyOf(batch([b, a])));
  });

  it('differs for a new upload of a key, another object, or another model', () => {
    const key = batchIdempotencyKeyOf(batch([write('drop/resnet/a.png', '01')]));

    expect(batchIdempotencyKeyOf(batch([write('drop/resnet/a.png', '02')]))).not.toBe(key);
    expect(
      batchIdempotencyKeyOf(batch([write('drop/resnet/a.png', '01'), write('drop/resnet/b.png', '01')])),
    ).not.toBe(key);
    expect(
      batchIdempotencyKeyOf({ bucket, model: 'other', writes: [write('drop/resnet/a.png', '01')] }),
    ).not.toBe(key);
  });

  it('tells writes apart by version id when there is one', () => {
    expect(writeIdOf(write('drop/resnet/a.png', '01', { versionId: 'v1' }))).toBe(
      `${bucket}/drop/resnet/a.png@v1`,
    );
  });
});

describe('batchManifestOf', () => {
  it('lists each key once, relative to the model folder, after the prefix', () => {
    const manifest = batchManifestOf({
      bucket,
      model: 'resnet',
      writes: [write('drop/resnet/a b.png'), write('drop/resnet/nested/été.jpg')],
    });

    expect(manifest).toEqual([{ prefix: `s3://${bucket}/drop/resnet/` }, 'a b.png', 'nested/été.jpg']);
  });

  it('refuses a key outside the model folder', () => {
    expect(() => batchManifestOf({ bucket, model: 'resnet', writes: [write('drop/other/a.png')] })).toThrow(
      'not under drop/resnet/',
    );
  });
});
