import { newWebhookSecret, signWebhook, verifyWebhook, webhookIdOf } from '../../lib/webhooks/signing';
import { signedPerSpec } from '../fixtures/webhooks';

/**
 * The Standard Webhooks specification's published test vector, from its reference libraries'
 * tests (standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts,
 * "sign function works").
 */
const vector = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const vectorHeaders = {
  'webhook-id': vector.id,
  'webhook-timestamp': String(vector.timestamp),
  'webhook-signature': vector.signature,
};

describe('signWebhook', () => {
  it('reproduces the Standard Webhooks test vector', () => {
    const headers = signWebhook(vector);

    expect(headers).toEqual(vectorHeaders);
  });

  it('signs with the key the base64 after whsec_ decodes to, as the specification does', () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({ type: 'job.completed', data: { jobId: 'j-1', note: 'ünïcödé' } });

    const headers = signWebhook({ id: 'msg_1', timestamp: 1_735_689_600, body, secret });

    expect(signedPerSpec(secret, headers, body)).toBe(true);
  });
});

describe('verifyWebhook', () => {
  it('accepts the test vector at its own time and within the tolerance', () => {
    expect(verifyWebhook(vectorHeaders, vector.body, vector.secret, 300, vector.timestamp)).toBe(true);
    expect(verifyWebhook(vectorHeaders, vector.body, vector.secret, 300, vector.timestamp + 300)).toBe(true);
  });

  it('accepts a secret given without its whsec_ prefix, and headers in any case', () => {
    const headers = {
      'Webhook-Id': vector.id,
      'Webhook-Timestamp': String(vector.timestamp),
      'Webhook-Signature': vector.signature,
    };

    expect(
      verifyWebhook(headers, vector.body, 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 300, vector.timestamp),
    ).toBe(true);
  });

  it('accepts a header that lists several signatures when one of them matches', () => {
    const headers = {
      ...vectorHeaders,
      'webhook-signature': `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,${vector.signature.slice(3)} ${vector.signature}`,
    };

    expect(verifyWebhook(headers, vector.body, vector.secret, 300, vector.timestamp)).toBe(true);
  });

  it('rejects a body changed after signing', () => {
    expect(verifyWebhook(vectorHeaders, '{"test": 2432232315}', vector.secret, 300, vector.timestamp)).toBe(
      false,
    );
  });

  it('rejects a delivery signed with another secret', () => {
    expect(verifyWebhook(vectorHeaders, vector.body, newWebhookSecret(), 300, vector.timestamp)).toBe(false);
  });

  it('rejects a timestamp older or newer than the tolerance', () => {
    expect(verifyWebhook(vectorHeaders, vector.body, vector.secret, 300, vector.timestamp + 301)).toBe(false);
    expect(verifyWebhook(vectorHeaders, vector.body, vector.secret, 300, vector.timestamp - 301)).toBe(false);
  });

  it('rejects a fresh delivery by default when its timestamp is years old', () => {
    expect(verifyWebhook(vectorHeaders, vector.body, vector.secret)).toBe(false);
  });

  it('rejects another id, a missing header, a timestamp that is not a number, and a cut signature', () => {
    const at = vector.timestamp;
    const { 'webhook-id': _id, ...withoutId } = vectorHeaders;

    expect(
      verifyWebhook({ ...vectorHeaders, 'webhook-id': 'msg_other' }, vector.body, vector.secret, 300, at),
    ).toBe(false);
    expect(verifyWebhook(withoutId, vector.body, vector.secret, 300, at)).toBe(false);
    expect(
      verifyWebhook({ ...vectorHeaders, 'webhook-timestamp': 'hello' }, vector.body, vector.secret, 300, at),
    ).toBe(false);
    expect(
      verifyWebhook({ ...vectorHeaders, 'webhook-signature': 'v1,' }, vector.body, vector.secret, 300, at),
    ).toBe(false);
    expect(
      verifyWebhook(
        { ...vectorHeaders, 'webhook-signature': vector.signature.slice(0, 12) },
        vector.body,
        vector.secret,
        300,
        at,
      ),
    ).toBe(false);
  });

  it('accepts what signWebhook signed just now', () => {
    const secret = newWebhookSecret();
    const body = '{"type":"job.failed"}';

    const headers = signWebhook({ id: 'msg_2', timestamp: Math.floor(Date.now() / 1000), body, secret });

    expect(verifyWebhook(headers, body, secret)).toBe(true);
  });
});

describe('newWebhookSecret', () => {
  it('is whsec_ and the base64 of 24 random bytes, different each time', () => {
    const secrets = [newWebhookSecret(), newWebhookSecret()];

    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
      expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(24);
    }
    expect(secrets[0]).not.toBe(secrets[1]);
  });
});

describe('webhookIdOf', () => {
  it('is the same for every delivery of one event, so receivers can drop redeliveries', () => {
    expect(webhookIdOf('job-1', 'job.completed')).toBe(webhookIdOf('job-1', 'job.completed'));
    expect(webhookIdOf('job-1', 'job.completed')).toMatch(/^msg_[0-9a-f]{24}$/);
  });

  it('differs between jobs and between event types', () => {
    const ids = new Set([
      webhookIdOf('job-1', 'job.completed'),
      webhookIdOf('job-2', 'job.completed'),
      webhookIdOf('job-1', 'job.cancelled'),
    ]);

    expect(ids.size).toBe(3);
  });
});
