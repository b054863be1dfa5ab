import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileFilePath, resolveSettings } from '../../cli/config';

describe('the CLI settings', () => {
  const folder = mkdtempSync(join(tmpdir(), 'longtail-config-'));
  const profiles = join(folder, 'profiles.json');
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  const writeProfiles = (value: unknown) => writeFileSync(profiles, JSON.stringify(value));
  /** An environment with only what a test gives it, and the profile file above. */
  const env = (values: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    LONGTAIL_CONFIG: profiles,
    ...values,
  });

  beforeEach(() => {
    writeProfiles({
      profiles: {
        default: {
          apiUrl: 'https://default.example.com',
          apiKey: 'default-key',
          inputsBucket: 'default-inputs',
        },
        prod: {
          apiUrl: 'https://prod.example.com',
          apiKey: 'prod-key',
          inputsBucket: 'prod-inputs',
          inputPrefix: 'team-a/',
          region: 'eu-west-1',
        },
      },
    });
  });

  it('takes the default profile when nothing else says', () => {
    expect(resolveSettings({}, env())).toEqual({
      apiUrl: 'https://default.example.com',
      apiKey: 'default-key',
      inputsBucket: 'default-inputs',
      inputPrefix: '',
      region: undefined,
      local: false,
    });
  });

  it('takes the profile --profile names, before LONGTAIL_PROFILE', () => {
    expect(resolveSettings({ profile: 'prod' }, env({ LONGTAIL_PROFILE: 'default' }))).toMatchObject({
      apiUrl: 'https://prod.example.com',
      apiKey: 'prod-key',
      inputPrefix: 'team-a/',
      region: 'eu-west-1',
    });
    expect(resolveSettings({}, env({ LONGTAIL_PROFILE: 'prod' })).apiKey).toBe('prod-key');
  });

  it('lets the environment override a profile, and flags override both', () => {
    const environment = env({
      LONGTAIL_PROFILE: 'prod',
      LONGTAIL_API_URL: 'https://env.example.com',
      LONGTAIL_API_KEY: 'env-key',
      LONGTAIL_INPUTS_BUCKET: 'env-inputs',
      LONGTAIL_INPUT_PREFIX: 'env/',
    });

    expect(resolveSettings({}, environment)).toMatchObject({
      apiUrl: 'https://env.example.com',
      apiKey: 'env-key',
      inputsBucket: 'env-inputs',
      inputPrefix: 'env/',
    });
    expect(
      resolveSettings(
        {
          apiUrl: 'https://flag.example.com',
          apiKey: 'flag-key',
          inputsBucket: 'flag-inputs',
          inputPrefix: '',
        },
        environment,
      ),
    ).toMatchObject({
      apiUrl: 'https://flag.example.com',
      apiKey: 'flag-key',
      inputsBucket: 'flag-inputs',
      inputPrefix: '',
    });
  });

  it('knows the local runtime by its loopback URL and fills in its inputs bucket', () => {
    writeProfiles({ profiles: {} });

    expect(resolveSettings({ apiUrl: 'http://127.0.0.1:3000', apiKey: 'k' }, env())).toMatchObject({
      local: true,
      inputsBucket: 'longtail-local-inputs',
    });
    expect(resolveSettings({ apiUrl: 'http://localhost:3000', apiKey: 'k' }, env()).local).toBe(true);
    expect(resolveSettings({ apiUrl: 'https://api.example.com', apiKey: 'k' }, env())).toMatchObject({
      local: false,
      inputsBucket: undefined,
    });
  });

  it('needs no profile file when flags or the environment say it all', () => {
    const noFile = { LONGTAIL_CONFIG: join(folder, 'absent.json') };

    expect(
      resolveSettings({}, { ...noFile, LONGTAIL_API_URL: 'https://x.example.com', LONGTAIL_API_KEY: 'k' }),
    ).toMatchObject({
      apiUrl: 'https://x.example.com',
    });
  });

  it.each([
    ['no URL', {}, { LONGTAIL_API_KEY: 'k' }, /No API URL: set LONGTAIL_API_URL/],
    ['no key', {}, { LONGTAIL_API_URL: 'https://x.example.com' }, /No API key: set LONGTAIL_API_KEY/],
    [
      'a URL that is not one',
      {},
      { LONGTAIL_API_URL: 'not a url', LONGTAIL_API_KEY: 'k' },
      /is not a URL: not a url/,
    ],
    [
      'a profile asked for without a file',
      { profile: 'prod' },
      {},
      /Profile "prod" asked for, but there is no profile file at .*absent\.json/,
    ],
  ])('refuses %s, saying what to set', (_case, flags, values, message) => {
    expect(() => resolveSettings(flags, { LONGTAIL_CONFIG: join(folder, 'absent.json'), ...values })).toThrow(
      message,
    );
  });

  it('names the profiles the file has when the one asked for is not there', () => {
    expect(() => resolveSettings({ profile: 'staging' }, env())).toThrow('No profile "staging" in');
    expect(() => resolveSettings({ profile: 'staging' }, env())).toThrow('it has: default, prod.');
  });

  it('says how a profile file looks when it does not fit', () => {
    writeProfiles({ prod: { apiUrl: 'https://prod.example.com' } });

    expect(() => resolveSettings({}, env())).toThrow(/is not a profile file: .*Write \{"profiles"/);
  });

  it('names the profile file when it is not JSON', () => {
    writeFileSync(profiles, '{"profiles": {');

    expect(() => resolveSettings({}, env())).toThrow(`${profiles} is not JSON (`);
  });

  it('finds the profile file under XDG_CONFIG_HOME, or ~/.config, unless LONGTAIL_CONFIG says where', () => {
    expect(profileFilePath({ LONGTAIL_CONFIG: '/etc/longtail.json' })).toBe('/etc/longtail.json');
    expect(profileFilePath({ XDG_CONFIG_HOME: '/home/u/.xdg' })).toBe('/home/u/.xdg/longtail/profiles.json');
    expect(profileFilePath({})).toMatch(/\.config\/longtail\/profiles\.json$/);
  });
});
