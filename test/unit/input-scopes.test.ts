import { checkInputAllowed, inputPrefixesOf, parseOwnerInputPrefixes } from '../../lib/auth/input-scopes';

describe('owner input scopes', () => {
  afterEach(() => {
    delete process.env.LONGTAIL_OWNER_INPUT_PREFIXES;
  });

  it('leaves inputs unscoped when nothing is configured', () => {
    expect(inputPrefixesOf('alice', '')).toBeUndefined();
    expect(() => checkInputAllowed('alice', 'anything/at/all.csv')).not.toThrow();
  });

  it('reads owners and their prefixes', () => {
    expect(parseOwnerInputPrefixes('alice:teams/a/|shared/, bob:teams/b/')).toEqual(
      new Map([
        ['alice', ['teams/a/', 'shared/']],
        ['bob', ['teams/b/']],
      ]),
    );
    expect(() => parseOwnerInputPrefixes('alice')).toThrow('owner:prefix|prefix,owner:prefix');
  });

  it('gives an owner not listed only its own folder once scoping is on', () => {
    expect(inputPrefixesOf('carol', 'alice:teams/a/')).toEqual(['carol/']);
  });

  it('refuses a key outside the owner’s prefixes with 403 INPUT_NOT_ALLOWED', () => {
    process.env.LONGTAIL_OWNER_INPUT_PREFIXES = 'alice:teams/a/,bob:teams/b/';

    expect(() => checkInputAllowed('alice', 'teams/a/nightly.csv')).not.toThrow();
    expect(() => checkInputAllowed('bob', 'teams/a/nightly.csv')).toThrow(
      expect.objectContaining({ name: 'Forbidden', code: 'INPUT_NOT_ALLOWED' }),
    );
  });
});
