/**
 * Standard Webhooks v1 signatures (https://www.standardwebhooks.com/): what a receiver checks
 * with any of that specification's libraries. Pure: no AWS imports.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const secretPrefix = 'whsec_';

/** The three headers every delivery carries, names in lower case as the specification writes them. */
// A type, not an interface, so that it fits Record<string, string> and Node's header types.
export type WebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** A new signing secret: `whsec_` and the base64 of 24 random bytes, as the specification suggests. */
export const newWebhookSecret = (): string => `${secretPrefix}${randomBytes(24).toString('base64')}`;

/** The key bytes of a secret: the base64 after `whsec_` (optional, as in the reference libraries). */
const keyOf = (secret: string): Buffer => {
  const key = Buffer.from(
    secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret,
    'base64',
  );
  if (key.length === 0) throw new Error('A webhook secret must hold at least one byte of key.');
  return key;
};

/**
 * The `webhook-id` of a job's event: the same for every delivery of that event, so a receiver
 * can drop a redelivery it has already handled.
 */
export const webhookIdOf = (jobId: string, eventType: string): string =>
  `msg_${createHash('sha256').update(`${jobId}:${eventType}`).digest('hex').slice(0, 24)}`;

const signatureOf = (key: Buffer, id: string, timestamp: number, body: string): string =>
  createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');

/** Signs one delivery: `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)). */
export const signWebhook = (message: {
  id: string;
  /** Unix seconds. */
  timestamp: number;
  body: string;
  secret: string;
}): WebhookHeaders => ({
  'webhook-id': message.id,
  'webhook-timestamp': String(message.timestamp),
  'webhook-signature': `v1,${signatureOf(keyOf(message.secret), message.id, message.timestamp, message.body)}`,
});

type HeaderBag = Record<string, string | string[] | undefined>;

const headerOf = (headers: HeaderBag, name: string): string | undefined => {
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  const value = entry?.[1];
  return Array.isArray(value) ? value.join(' ') : value;
};

const sameText = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/**
 * The receiver's check, for users and tests: true when one of the space-separated `v1,`
 * signatures matches (compared in constant time) and the timestamp is within
 * `toleranceSeconds` of now, either way.
 */
export const verifyWebhook = (
  headers: HeaderBag,
  body: string,
  secret: string,
  toleranceSeconds = 300,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean => {
  const id = headerOf(headers, 'webhook-id');
  const timestampText = headerOf(headers, 'webhook-timestamp');
  const signatures = headerOf(headers, 'webhook-signature');
  if (!id || !timestampText || !signatures || !/^\d+$/.test(timestampText)) return false;
  const timestamp = Number(timestampText);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = signatureOf(keyOf(secret), id, timestamp, body);
  return signatures
    .split(' ')
    .map((entry) => entry.split(','))
    .some(
      ([version, signature]) => version === 'v1' && signature !== undefined && sameText(signature, expected),
    );
};
