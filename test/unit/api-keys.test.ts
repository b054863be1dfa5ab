import { bearerToken, ownerOfKey, parseApiKeys } from '../../lib/auth/api-keys';

describe('parseApiKeys', () => {
  it('reads owner:key pairs separated by commas, trimming spaces', () => {
    const entries = parseApiKeys(' alice:key-a1 , bob : key-b ,alice:key-a2');

    expect(entries.map((e) => e.ownerId)).toEqual(['alice', 'bob', 'alice']);
    expect(ownerOfKey(entries, 'key-b')).toBe('bob');
  });

  it('ignores empty entries', () => {
    expect(parseApiKeys('alice:key-a,,')).toHaveLength(1);
    expect(parseApiKeys('')).toEqual([]);
  });

  it('keeps colons after the first one as part of the key', () => {
    const entries = parseApiKeys('alice:key:with:colons');

    expect(ownerOfKey(entries, 'key:with:colons')).toBe('alice');
  });

  it('does not keep keys in clear text', () => {
    const [entry] = parseApiKeys('alice:secret-key');

    expect(entry?.digest.toString('utf8')).not.toContain('secret-key');
    expect(entry?.digest).toHaveLength(32);
  });

  it.each([
    ['a key without an owner', ':key'],
    ['an owner without a key', 'alice:'],
    ['a pair without a colon', 'alice'],
    ['a blank owner', '   :key'],
  ])('rejects %s with the expected format', (_what, spec) => {
    expect(() => parseApiKeys(spec)).toThrow('API keys must be written "owner:key,owner:key"');
  });

  it('rejects one key given to two owners, which would make the owner ambiguous', () => {
    expect(() => parseApiKeys('alice:shared,bob:shared')).toThrow('An API key may belong to one owner only');
  });
});

describe('ownerOfKey', () => {
  const entries = parseApiKeys('alice:key-a1,alice:key-a2,bob:key-b');

  it('finds the owner of each of their keys', () => {
    expect(ownerOfKey(entries, 'key-a1')).toBe('alice');
    expect(ownerOfKey(entries, 'key-a2')).toBe('alice');
    expect(ownerOfKey(entries, 'key-b')).toBe('bob');
  });

  it.each(['key-c', 'key-a', 'KEY-A1', '', 'key-a1 '])('finds no owner for %p', (presented) => {
    expect(ownerOfKey(entries, presented)).toBeUndefined();
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc123', 'abc123'],
    ['bearer abc123', 'abc123'],
    ['BEARER abc123', 'abc123'],
    ['Bearer    abc123  ', 'abc123'],
    ['Bearer\tabc123', 'abc123'],
  ])('takes the key from %p', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['Basic credentials', 'Basic YWxpY2U6c2VjcmV0'],
    ['a bare key', 'abc123'],
    ['Bearer without a key', 'Bearer'],
    ['Bearer with a blank key', 'Bearer   '],
    ['a key with spaces', 'Bearer abc 123'],
  ])('returns nothing for %s', (_what, header) => {
    expect(bearerToken(header)).toBeUndefined();
  });
});
