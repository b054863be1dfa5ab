import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { createHash, timingSafeEqual } from 'node:crypto';

/** The key `npm start` accepts when `LONGTAIL_API_KEYS` is not set. Never deploy it. */
export const developmentApiKeys = 'dev:longtail-dev-key';

export interface ApiKeyEntry {
  ownerId: string;
  digest: Buffer;
}

const digestOf = (key: string) => createHash('sha256').update(key).digest();

/** Parses `owner:key,owner:key`; owners may hold several keys, a key belongs to one owner. */
export const parseApiKeys = (spec: string): ApiKeyEntry[] => {
  const entries = spec
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const separator = pair.indexOf(':');
      const ownerId = pair.slice(0, separator).trim();
      const key = pair.slice(separator + 1).trim();
      if (separator <= 0 || !ownerId || !key) {
        throw new Error('API keys must be written "owner:key,owner:key"');
      }
      return { ownerId, digest: digestOf(key) };
    });
  const digests = new Set(entries.map((entry) => entry.digest.toString('hex')));
  if (digests.size !== entries.length) throw new Error('An API key may belong to one owner only');
  return entries;
};

/** The owner of `presented`, compared in constant time on digests. */
export const ownerOfKey = (entries: ApiKeyEntry[], presented: string): string | undefined => {
  const digest = digestOf(presented);
  return entries.find((entry) => timingSafeEqual(entry.digest, digest))?.ownerId;
};

/**
 * The keys in force: in AWS from the SSM SecureString named by `API_KEYS_PARAMETER` (cached
 * for five minutes, so a rotated key takes effect without a deploy); locally from
 * `LONGTAIL_API_KEYS`.
 */
export const loadApiKeys = async (): Promise<ApiKeyEntry[]> => {
  const parameterName = process.env.API_KEYS_PARAMETER;
  if (parameterName) {
    const spec = await getParameter(parameterName, { decrypt: true, maxAge: 300 });
    if (!spec) throw new Error(`SSM parameter ${parameterName} is empty`);
    return parseApiKeys(spec);
  }
  return parseApiKeys(process.env.LONGTAIL_API_KEYS ?? developmentApiKeys);
};

/** `Authorization: Bearer <key>` → `<key>`; anything else → undefined. */
export const bearerToken = (header: string | undefined): string | undefined => {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
};

/**
 * Owners with operator rights (the console's extra views: execution history, worker logs,
 * queues): `LONGTAIL_OPERATORS`, owner ids separated by commas. Operators still see only their
 * own jobs; what they get besides is what is needed to run the system.
 */
export const operatorOwners = (spec = process.env.LONGTAIL_OPERATORS ?? ''): Set<string> =>
  new Set(
    spec
      .split(',')
      .map((owner) => owner.trim())
      .filter(Boolean),
  );
