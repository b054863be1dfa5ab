import fc from 'fast-check';
import { listPage } from '../../local/s3/listing';
import type { ListRequest, OpenScan } from '../../local/s3/listing';

/** An ordered index over `keys` (UTF-8 byte order), scanned as LevelDB would be; counts seeks. */
const indexOf = (keys: string[]) => {
  const sorted = [...new Set(keys)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const stats = { scans: 0 };
  const open: OpenScan<null> = (start) => {
    stats.scans += 1;
    const from = 'gt' in start ? start.gt : start.gte;
    const after = (key: string) => {
      const order = Buffer.compare(Buffer.from(key), Buffer.from(from));
      return 'gt' in start ? order > 0 : order >= 0;
    };
    return (async function* () {
      for (const key of sorted) if (after(key)) yield [key, null] as [string, null];
    })();
  };
  return { open, sorted, stats };
};

/** S3's listing by definition: every key under the prefix, rolled up at the delimiter, in order. */
const reference = (keys: string[], prefix: string, delimiter: string) => {
  const entries: string[] = [];
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    const entry = cut < 0 ? key : key.slice(0, cut + delimiter.length);
    if (entries[entries.length - 1] !== entry) entries.push(entry);
  }
  return entries;
};

/** Every page, following each page's last entry, as ListObjectsV2 continuation does. */
const allPages = async (open: OpenScan<null>, request: Omit<ListRequest, 'after'>) => {
  const entries: string[] = [];
  let after = '';
  for (let pages = 0; pages < 1000; pages++) {
    const page = await listPage(open, { ...request, after });
    const onPage = [...page.objects.map((o) => o.key), ...page.commonPrefixes].sort((a, b) =>
      Buffer.compare(Buffer.from(a), Buffer.from(b)),
    );
    expect(onPage.length).toBeLessThanOrEqual(request.maxKeys);
    entries.push(...onPage);
    if (!page.truncated) return entries;
    after = page.last ?? '';
  }
  throw new Error('listing never ended');
};

describe('listing a key index', () => {
  const keys = ['a', 'a/b', 'a/b/c', 'a/c', 'a-b', 'b/x', 'b/y/z', 'c'];

  it('rolls keys up into common prefixes at the delimiter', async () => {
    const { open } = indexOf(keys);
    const page = await listPage(open, { prefix: '', delimiter: '/', after: '', maxKeys: 1000 });
    expect(page.objects.map((o) => o.key)).toEqual(['a', 'a-b', 'c']);
    expect(page.commonPrefixes).toEqual(['a/', 'b/']);
    expect(page.truncated).toBe(false);
  });

  it('keeps nested prefixes under a prefix with a delimiter and max-keys', async () => {
    const { open } = indexOf(keys);
    const first = await listPage(open, { prefix: 'a/', delimiter: '/', after: '', maxKeys: 1 });
    expect(first).toMatchObject({ commonPrefixes: [], truncated: true, last: 'a/b' });
    const second = await listPage(open, { prefix: 'a/', delimiter: '/', after: 'a/b', maxKeys: 1 });
    expect(second).toMatchObject({ objects: [], commonPrefixes: ['a/b/'], truncated: true, last: 'a/b/' });
    const third = await listPage(open, { prefix: 'a/', delimiter: '/', after: 'a/b/', maxKeys: 1 });
    expect(third.objects.map((o) => o.key)).toEqual(['a/c']);
    expect(third).toMatchObject({ commonPrefixes: [], truncated: false });
  });

  it('answers an empty, untruncated page for max-keys 0', async () => {
    const { open } = indexOf(keys);
    expect(await listPage(open, { prefix: '', delimiter: '', after: '', maxKeys: 0 })).toEqual({
      objects: [],
      commonPrefixes: [],
      truncated: false,
    });
  });

  it('seeks past a rolled-up prefix instead of reading its keys', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => `logs/${i}`).concat(['z']);
    const { open, stats } = indexOf(many);
    const page = await listPage(open, { prefix: '', delimiter: '/', after: '', maxKeys: 10 });
    expect(page.commonPrefixes).toEqual(['logs/']);
    expect(page.objects.map((o) => o.key)).toEqual(['z']);
    expect(stats.scans).toBe(2);
  });

  it('pages through any keys exactly as the definition lists them', async () => {
    const key = fc.stringMatching(/^[ab/é-]{1,6}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.array(key, { maxLength: 40 }),
        fc.constantFrom('', 'a', 'a/', 'b'),
        fc.constantFrom('', '/', '-', 'b'),
        fc.integer({ min: 1, max: 5 }),
        async (generated, prefix, delimiter, maxKeys) => {
          const { open, sorted } = indexOf(generated);
          const listed = await allPages(open, { prefix, delimiter, maxKeys });
          expect(listed).toEqual(reference(sorted, prefix, delimiter));
        },
      ),
      { numRuns: 300 },
    );
  });
});
