/** Where a scan of the key index starts: after a key, or at the first key not below one. */
export type ScanStart = { gt: string } | { gte: string };

/** Opens an ascending scan of an ordered key index (UTF-8 byte order, as S3 lists keys). */
export type OpenScan<V> = (start: ScanStart) => AsyncIterable<[string, V]>;

export interface ListRequest {
  prefix: string;
  delimiter: string;
  /** List keys and common prefixes after this one (StartAfter, marker, continuation). */
  after: string;
  maxKeys: number;
}

export interface ListPage<V> {
  objects: { key: string; value: V }[];
  commonPrefixes: string[];
  truncated: boolean;
  /** The last key or common prefix on this page: where the next page starts. */
  last?: string;
}

/** Above every character: a scan started past `prefix + this` skips the keys under `prefix`. */
const highest = '\u{10FFFF}';

/**
 * One page of a listing, read from the index in key order: keys under `prefix`, keys sharing
 * the part up to the next `delimiter` rolled up into one common prefix. A common prefix is
 * skipped over with a new scan (a seek), so a page costs O(page + rolled-up prefixes) index
 * reads, not O(keys in the bucket).
 */
export const listPage = async <V>(open: OpenScan<V>, request: ListRequest): Promise<ListPage<V>> => {
  const { prefix, delimiter, after, maxKeys } = request;
  const page: ListPage<V> = { objects: [], commonPrefixes: [], truncated: false };
  if (maxKeys <= 0) return page;
  let start: ScanStart = after && after >= prefix ? { gt: after } : { gte: prefix };
  let emitted = 0;
  let previousPrefix = after;
  const emit = () => {
    if (emitted === maxKeys) {
      page.truncated = true;
      return false;
    }
    emitted += 1;
    return true;
  };
  for (;;) {
    let seekTo: string | undefined;
    for await (const [key, value] of open(start)) {
      if (!key.startsWith(prefix)) return page;
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (cut < 0) {
        if (!emit()) return page;
        page.objects.push({ key, value });
        page.last = key;
        continue;
      }
      const common = key.slice(0, cut + delimiter.length);
      if (common !== previousPrefix) {
        if (!emit()) return page;
        page.commonPrefixes.push(common);
        page.last = common;
        previousPrefix = common;
      }
      seekTo = common + highest;
      break;
    }
    if (seekTo === undefined) return page;
    start = { gt: seekTo };
  }
};
