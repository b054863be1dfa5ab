import { InvalidInput } from '../../lib/errors';
import {
  checkWebhookUrl,
  isBlockedAddress,
  strictWebhookPolicy,
  webhookPolicyFromEnv,
} from '../../lib/webhooks/target-policy';
import type { WebhookTargetPolicy } from '../../lib/webhooks/target-policy';

const aws = strictWebhookPolicy;
const local: WebhookTargetPolicy = { allowHttp: true, allowLoopback: true };

const refusal = (url: string, policy: WebhookTargetPolicy): InvalidInput | undefined => {
  try {
    checkWebhookUrl(url, policy);
    return undefined;
  } catch (error) {
    return error as InvalidInput;
  }
};

describe('checkWebhookUrl', () => {
  it.each([
    ['http in AWS', 'http://hooks.example.com/x', /must use https/],
    ['the EC2 metadata service', 'https://169.254.169.254/latest/meta-data/', /169\.254\.169\.254/],
    ['the metadata service as an IPv4-mapped IPv6 address', 'https://[::ffff:169.254.169.254]/', /private/],
    ['a 10/8 address', 'https://10.0.0.1/hook', /10\.0\.0\.1/],
    ['a 172.16/12 address', 'https://172.16.5.4/hook', /172\.16\.5\.4/],
    ['a 192.168/16 address', 'https://192.168.1.1/hook', /192\.168\.1\.1/],
    ['a loopback address', 'https://127.0.0.1:8443/hook', /127\.0\.0\.1/],
    ['loopback written as one number', 'https://2130706433/hook', /127\.0\.0\.1/],
    ['loopback written in hex', 'https://0x7f.1/hook', /127\.0\.0\.1/],
    ['localhost', 'https://localhost/hook', /localhost is this machine/],
    ['a name under .localhost', 'https://api.localhost./hook', /this machine/],
    ['IPv6 loopback', 'https://[::1]/hook', /private/],
    ['the EC2 metadata service over IPv6', 'https://[fd00:ec2::254]/', /private/],
    ['0.0.0.0', 'https://0.0.0.0/', /0\.0\.0\.0/],
    ['shared address space (carrier-grade NAT)', 'https://100.64.0.1/', /100\.64\.0\.1/],
    ['GCP metadata by name', 'https://metadata.google.internal/computeMetadata/v1/', /metadata/],
    ['a .internal name', 'https://ip-10-0-0-5.ec2.internal/', /private network/],
    ['a single-label name', 'https://intranet/hook', /private network/],
    ['a user name and password', 'https://user:secret@hooks.example.com/x', /user name or password/],
    ['a user name alone', 'https://user@hooks.example.com/x', /user name or password/],
    ['ftp', 'ftp://hooks.example.com/x', /must use https/],
    ['file', 'file:///etc/passwd', /must use https/],
    ['javascript', 'javascript:alert(1)', /must use https/],
    ['text that is no URL', 'not a url', /not a valid URL/],
    ['a URL over 2048 characters', `https://hooks.example.com/${'a'.repeat(2048)}`, /longer than 2048/],
  ])('refuses %s', (_case, url, message) => {
    const error = refusal(url, aws);

    expect(error).toBeInstanceOf(InvalidInput);
    expect(error?.code).toBe('INVALID_WEBHOOK_URL');
    expect(error?.message).toMatch(message);
  });

  it.each([
    ['an https name', 'https://hooks.example.com/longtail?token=abc'],
    ['an https name with a port', 'https://hooks.example.com:8443/longtail'],
    ['a public IPv4 address', 'https://93.184.216.34/hook'],
    ['a public IPv6 address', 'https://[2606:2800:220:1:248:1893:25c8:1946]/hook'],
    ['a name with a trailing dot', 'https://hooks.example.com./hook'],
  ])('accepts %s in AWS', (_case, url) => {
    expect(refusal(url, aws)).toBeUndefined();
  });

  it('returns the parsed URL', () => {
    expect(checkWebhookUrl('https://hooks.example.com/x?y=1', aws).pathname).toBe('/x');
  });

  it('accepts http and loopback only when the local settings allow them', () => {
    expect(refusal('http://127.0.0.1:3000/hook', local)).toBeUndefined();
    expect(refusal('http://localhost:3000/hook', local)).toBeUndefined();
    expect(refusal('http://[::1]:3000/hook', local)).toBeUndefined();
    expect(refusal('http://127.0.0.1:3000/hook', { allowHttp: true, allowLoopback: false })?.message).toMatch(
      /127\.0\.0\.1/,
    );
    expect(refusal('http://hooks.example.com/', { allowHttp: false, allowLoopback: true })?.message).toMatch(
      /must use https/,
    );
  });

  it('refuses private and metadata addresses even with the local settings', () => {
    expect(refusal('http://169.254.169.254/', local)).toBeInstanceOf(InvalidInput);
    expect(refusal('http://10.0.0.1/', local)).toBeInstanceOf(InvalidInput);
    expect(refusal('http://[fd00:ec2::254]/', local)).toBeInstanceOf(InvalidInput);
  });
});

describe('isBlockedAddress', () => {
  it.each([
    '0.0.0.0',
    '10.0.0.5',
    '100.64.12.1',
    '127.0.0.1',
    '127.255.255.254',
    '169.254.169.254',
    '169.254.170.2',
    '172.16.0.1',
    '172.31.255.255',
    '192.0.0.170',
    '192.168.0.1',
    '198.18.0.1',
    '224.0.0.251',
    '240.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '::127.0.0.1',
    'fc00::1',
    'fd12:3456::1',
    'fd00:ec2::254',
    'fe80::1',
    'fe80::1%eth0',
    'ff02::1',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '::ffff:10.0.0.1',
    '::ffff:127.0.0.1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b::10.1.2.3',
    '64:ff9b:1::1',
    '2002:a00:1::1',
    '2001:0:4136:e378::1',
    'not an address',
    'example.com',
    '',
  ])('blocks %s', (address) => {
    expect(isBlockedAddress(address, aws)).toBe(true);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '192.169.0.1',
    '2606:2800:220:1:248:1893:25c8:1946',
    '::ffff:93.184.216.34',
    '64:ff9b::5db8:d822',
    '2002:5db8:d822::1',
  ])('allows %s', (address) => {
    expect(isBlockedAddress(address, aws)).toBe(false);
  });

  it('allows loopback, and loopback only, with allowLoopback', () => {
    const loopbackAllowed: WebhookTargetPolicy = { allowHttp: false, allowLoopback: true };

    expect(
      ['127.0.0.1', '::1', '::ffff:127.0.0.1', '[::1]'].map((a) => isBlockedAddress(a, loopbackAllowed)),
    ).toEqual([false, false, false, false]);
    expect(
      ['10.0.0.1', '169.254.169.254', 'fd00:ec2::254', '0.0.0.0', '::'].map((a) =>
        isBlockedAddress(a, loopbackAllowed),
      ),
    ).toEqual([true, true, true, true, true]);
  });
});

describe('webhookPolicyFromEnv', () => {
  const saved = { http: process.env.WEBHOOK_ALLOW_HTTP, loopback: process.env.WEBHOOK_ALLOW_LOOPBACK };
  const setFlags = (http: string | undefined, loopback: string | undefined) => {
    for (const [name, value] of [
      ['WEBHOOK_ALLOW_HTTP', http],
      ['WEBHOOK_ALLOW_LOOPBACK', loopback],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  afterEach(() => setFlags(saved.http, saved.loopback));

  it('is strict unless the variables say "true"', () => {
    setFlags(undefined, undefined);
    expect(webhookPolicyFromEnv()).toEqual(strictWebhookPolicy);

    setFlags('true', 'false');
    expect(webhookPolicyFromEnv()).toEqual({ allowHttp: true, allowLoopback: false });
  });

  it('fails with the variable’s name on a value that is neither true nor false', () => {
    setFlags('yes', undefined);

    expect(() => webhookPolicyFromEnv()).toThrow(/WEBHOOK_ALLOW_HTTP/);
  });
});
