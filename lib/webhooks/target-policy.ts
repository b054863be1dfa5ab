/**
 * Where webhooks may go (SSRF protection). A webhook URL is checked when a job is submitted
 * (`checkWebhookUrl`) and again at delivery, where every address its host resolves to is
 * checked at connect time (`isBlockedAddress`, used by deliver.ts), so a name that later
 * resolves to a private address (DNS rebinding) is refused too. Pure: no AWS imports.
 */
import { BlockList, isIP } from 'node:net';
import { InvalidInput } from '../errors';

export interface WebhookTargetPolicy {
  /** Allow `http:` URLs. Off in AWS; the local runtime turns it on. */
  allowHttp: boolean;
  /** Allow loopback addresses and `localhost`. Off in AWS; only ever on locally. */
  allowLoopback: boolean;
}

/** What AWS runs with: HTTPS only, no loopback. */
export const strictWebhookPolicy: WebhookTargetPolicy = { allowHttp: false, allowLoopback: false };

const subnets = (type: 'ipv4' | 'ipv6', cidrs: string[]): BlockList => {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network = '', prefix = ''] = cidr.split('/');
    list.addSubnet(network, Number(prefix), type);
  }
  return list;
};

/**
 * IPv4 that no webhook may reach: "this network", private, shared (carrier-grade NAT),
 * link-local (the metadata service), IETF protocol assignments, benchmarking, multicast, reserved.
 */
const blockedV4 = subnets('ipv4', [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '255.255.255.255/32',
]);
const loopbackV4 = subnets('ipv4', ['127.0.0.0/8']);

/**
 * IPv6 that no webhook may reach: unspecified and IPv4-compatible (::/96, deprecated), unique
 * local (fc00::/7, which holds AWS's IMDS at fd00:ec2::254), link-local, multicast, local-use
 * NAT64 (64:ff9b:1::/48) and Teredo (2001::/32), whose IPv4 part is hidden.
 */
const blockedV6 = subnets('ipv6', [
  '::/96',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
  '64:ff9b:1::/48',
  '2001::/32',
]);
const loopbackV6 = subnets('ipv6', ['::1/128']);

/** The eight 16-bit groups of an IPv6 address (zone id dropped, a trailing dotted quad folded in). */
const groupsOf = (address: string): number[] => {
  let text = address.split('%')[0] ?? '';
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = last.split('.').map(Number);
    tail.push(a * 256 + b, c * 256 + d);
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const [head = '', rest] = text.split('::');
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const groups = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  if (tail.length === 2) groups.splice(6, 2, ...tail);
  return groups;
};

const v4Of = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/** The IPv4 address an IPv6 one carries: mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96), 6to4 (2002::/16). */
const embeddedV4 = (groups: number[]): string | undefined => {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const zeroes = (...values: number[]) => values.every((value) => value === 0);
  if (zeroes(g0, g1, g2, g3, g4) && g5 === 0xffff) return v4Of(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && zeroes(g2, g3, g4, g5)) return v4Of(g6, g7);
  if (g0 === 0x2002) return v4Of(g1, g2);
  return undefined;
};

const v4Blocked = (address: string, policy: WebhookTargetPolicy) =>
  blockedV4.check(address, 'ipv4') || (!policy.allowLoopback && loopbackV4.check(address, 'ipv4'));

/**
 * Whether a webhook may not connect to `address`. Anything that is not an IP address is
 * blocked; an IPv6 address that carries an IPv4 one is judged by that one as well.
 */
export const isBlockedAddress = (address: string, policy: WebhookTargetPolicy): boolean => {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  const version = isIP(bare);
  if (version === 4) return v4Blocked(bare, policy);
  if (version !== 6) return true;
  const groups = groupsOf(bare);
  if (groups.length !== 8 || groups.some((group) => !Number.isInteger(group))) return true;
  const canonical = groups.map((group) => group.toString(16)).join(':');
  if (loopbackV6.check(canonical, 'ipv6')) return !policy.allowLoopback;
  if (blockedV6.check(canonical, 'ipv6')) return true;
  const v4 = embeddedV4(groups);
  return v4 !== undefined && v4Blocked(v4, policy);
};

/** Names that mean this machine: allowed only with `allowLoopback`. */
const isLoopbackName = (host: string) => host === 'localhost' || host.endsWith('.localhost');

/**
 * Names that never lead to a public receiver: cloud metadata services, names reserved for
 * private networks (.internal, .local, .home.arpa) and single-label names, which the resolver's
 * search domains turn into internal hosts.
 */
const isPrivateName = (host: string) =>
  !host.includes('.') ||
  host === 'metadata.google.internal' ||
  ['.internal', '.local', '.localdomain', '.home.arpa', '.lan'].some((suffix) => host.endsWith(suffix));

const maxUrlLength = 2048;

const refuse = (message: string): never => {
  throw new InvalidInput('INVALID_WEBHOOK_URL', message);
};

/**
 * Checks a webhook URL before a job is accepted and before each delivery: HTTPS (HTTP only
 * with `allowHttp`), no credentials, and a host that is neither a blocked IP address nor a
 * name for this machine or a private network. Returns the parsed URL; throws
 * `InvalidInput('INVALID_WEBHOOK_URL')` with a message for the caller otherwise. What the host
 * resolves to is checked at connect time (deliver.ts).
 */
export const checkWebhookUrl = (url: string, policy: WebhookTargetPolicy): URL => {
  if (url.length > maxUrlLength) refuse(`The webhookUrl is longer than ${maxUrlLength} characters.`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse('The webhookUrl is not a valid URL.');
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && policy.allowHttp)) {
    refuse(
      `The webhookUrl must use https${policy.allowHttp ? ' or http' : ''}, not ${parsed.protocol.replace(/:$/, '')}.`,
    );
  }
  if (parsed.username !== '' || parsed.password !== '') {
    refuse('The webhookUrl must not contain a user name or password; webhooks are signed instead.');
  }
  const host = parsed.hostname.toLowerCase().replace(/\.$/, '');
  if (host === '') refuse('The webhookUrl has no host.');
  const literal = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(literal) !== 0) {
    if (isBlockedAddress(literal, policy)) {
      refuse(
        `The webhookUrl's address ${literal} is private, loopback, link-local or reserved; webhooks go to public addresses only.`,
      );
    }
    return parsed;
  }
  if (isLoopbackName(host)) {
    if (!policy.allowLoopback) {
      refuse(`The webhookUrl's host ${host} is this machine; webhooks go to public hosts only.`);
    }
    return parsed;
  }
  if (isPrivateName(host)) {
    refuse(
      `The webhookUrl's host ${host} names a private network or metadata service; webhooks go to public hosts only.`,
    );
  }
  return parsed;
};

const flag = (name: string): boolean => {
  const value = process.env[name];
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new Error(`Environment variable ${name} must be "true" or "false", got "${value}"`);
};

/** The policy this process runs with: `WEBHOOK_ALLOW_HTTP`, `WEBHOOK_ALLOW_LOOPBACK`; each false unless "true". */
export const webhookPolicyFromEnv = (): WebhookTargetPolicy => ({
  allowHttp: flag('WEBHOOK_ALLOW_HTTP'),
  allowLoopback: flag('WEBHOOK_ALLOW_LOOPBACK'),
});
