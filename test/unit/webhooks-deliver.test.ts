import { deliverWebhook } from '../../lib/webhooks/deliver';
import type { WebhookRequest } from '../../lib/webhooks/deliver';
import { signWebhook } from '../../lib/webhooks/signing';
import type { WebhookTargetPolicy } from '../../lib/webhooks/target-policy';
import {
  closedPort,
  fakeResolver,
  receiverCertificate,
  signedPerSpec,
  startReceiver,
  webhookSecret,
} from '../fixtures/webhooks';
import type { Receiver } from '../fixtures/webhooks';

const local: WebhookTargetPolicy = { allowHttp: true, allowLoopback: true };
const body = JSON.stringify({
  type: 'job.completed',
  timestamp: '2025-01-01T00:05:00.000Z',
  data: { jobId: 'j-1' },
});
const headers = signWebhook({ id: 'msg_1', timestamp: 1_735_689_900, body, secret: webhookSecret });

const deliver = (url: string, overrides: Partial<WebhookRequest> = {}) =>
  deliverWebhook({ url, body, headers, policy: local, timeoutMs: 2_000, ...overrides });

describe('deliverWebhook over HTTP', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('POSTs the body as JSON with the signature headers and counts a 200 as delivered', async () => {
    const result = await deliver(receiver.url());

    expect(result).toEqual({ ok: true, status: 200, durationMs: expect.any(Number) });
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/hooks', body });
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': 'msg_1',
      'webhook-timestamp': '1735689900',
    });
    expect(signedPerSpec(webhookSecret, request?.headers ?? {}, request?.body ?? '')).toBe(true);
  });

  it('counts any 2xx as delivered', async () => {
    receiver.respondWith((_request, response) => response.writeHead(204).end());

    expect(await deliver(receiver.url())).toMatchObject({ ok: true, status: 204 });
  });

  it('reports a 500 as not delivered, with the status', async () => {
    receiver.respondWith((_request, response) => response.writeHead(500).end('database down'));

    const result = await deliver(receiver.url());

    expect(result).toEqual({
      ok: false,
      status: 500,
      error: '127.0.0.1 answered 500.',
      durationMs: expect.any(Number),
    });
  });

  it('does not follow a redirect: a 302 is not delivered and the target is never asked', async () => {
    receiver.respondWith((request, response) => {
      if (request.path === '/hooks') response.writeHead(302, { location: receiver.url('/moved') }).end();
      else response.writeHead(200).end();
    });

    const result = await deliver(receiver.url());

    expect(result).toMatchObject({
      ok: false,
      status: 302,
      error: expect.stringMatching(/redirects are not followed/),
    });
    expect(receiver.requests.map((request) => request.path)).toEqual(['/hooks']);
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    receiver.respondWith(() => undefined);

    const result = await deliver(receiver.url(), { timeoutMs: 200 });

    expect(result).toMatchObject({ ok: false, error: '127.0.0.1 did not answer within 200 ms.' });
    expect(result.status).toBeUndefined();
    expect(result.durationMs).toBeGreaterThanOrEqual(190);
  });

  it('judges by the status when the receiver answers 200 but never finishes its body', async () => {
    receiver.respondWith((_request, response) => {
      response.writeHead(200);
      response.write('still thinking');
    });

    expect(await deliver(receiver.url(), { timeoutMs: 200 })).toMatchObject({ ok: true, status: 200 });
  });

  it('reads a large answer only up to its cap', async () => {
    receiver.respondWith((_request, response) =>
      response.writeHead(200).end(Buffer.alloc(4 * 1024 * 1024, 120)),
    );

    expect(await deliver(receiver.url())).toMatchObject({ ok: true, status: 200 });
  });

  it('refuses http when the policy allows https only, without connecting', async () => {
    const result = await deliver(receiver.url(), { policy: { allowHttp: false, allowLoopback: true } });

    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/must use https/) });
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses a loopback address the policy does not allow, without connecting', async () => {
    const result = await deliver(receiver.url(), { policy: { allowHttp: true, allowLoopback: false } });

    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/127\.0\.0\.1/) });
    expect(receiver.requests).toHaveLength(0);
  });
});

describe('deliverWebhook and DNS', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('connects to the address its own lookup resolved and checked', async () => {
    const resolve = fakeResolver({ 'receiver.test': ['127.0.0.1'] });

    const result = await deliver(`http://receiver.test:${receiver.port}/hooks`, { resolve });

    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(resolve.calls).toEqual(['receiver.test']);
    expect(receiver.requests[0]?.headers.host).toBe(`receiver.test:${receiver.port}`);
  });

  it('refuses a public-looking name that resolves to a private address at connect time (DNS rebinding)', async () => {
    const resolve = fakeResolver({ 'hooks.attacker.test': ['10.0.0.5'] });

    const result = await deliver('https://hooks.attacker.test/x', {
      resolve,
      policy: { allowHttp: false, allowLoopback: false },
    });

    expect(result).toMatchObject({
      ok: false,
      error: expect.stringMatching(/hooks\.attacker\.test resolves to 10\.0\.0\.5/),
    });
    expect(result.status).toBeUndefined();
    expect(resolve.calls).toEqual(['hooks.attacker.test']);
  });

  it('refuses a name that resolves to a listening loopback receiver when loopback is not allowed', async () => {
    const resolve = fakeResolver({ 'receiver.test': ['127.0.0.1'] });

    const result = await deliver(`http://receiver.test:${receiver.port}/hooks`, {
      resolve,
      policy: { allowHttp: true, allowLoopback: false },
    });

    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/resolves to 127\.0\.0\.1/) });
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses a name when any of its addresses is blocked, even if the first is public', async () => {
    const resolve = fakeResolver({ 'hooks.example.test': ['93.184.216.34', '169.254.169.254'] });

    const result = await deliver('https://hooks.example.test/x', {
      resolve,
      policy: { allowHttp: false, allowLoopback: false },
    });

    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/169\.254\.169\.254/) });
  });

  it('reports a name that does not resolve', async () => {
    const resolve = fakeResolver({});

    const result = await deliver('https://nowhere.example.test/x', { resolve });

    expect(result).toMatchObject({ ok: false, error: 'nowhere.example.test does not resolve.' });
  });
});

describe('deliverWebhook over HTTPS', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver({ tls: true });
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('delivers to a receiver whose certificate it trusts', async () => {
    const result = await deliver(receiver.url(), { trustedCa: receiverCertificate });

    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(receiver.requests[0]?.body).toBe(body);
  });

  it('checks the certificate against the name, not the address it resolved to', async () => {
    const resolve = fakeResolver({ 'receiver.test': ['127.0.0.1'], 'other.test': ['127.0.0.1'] });

    const named = await deliver(`https://receiver.test:${receiver.port}/hooks`, {
      resolve,
      trustedCa: receiverCertificate,
    });
    const misnamed = await deliver(`https://other.test:${receiver.port}/hooks`, {
      resolve,
      trustedCa: receiverCertificate,
    });

    expect(named).toMatchObject({ ok: true, status: 200 });
    expect(misnamed).toMatchObject({ ok: false, error: expect.stringMatching(/other\.test/) });
  });

  it('refuses a certificate nobody vouches for', async () => {
    const result = await deliver(receiver.url());

    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/certificate/i) });
    expect(receiver.requests).toHaveLength(0);
  });
});

describe('deliverWebhook without a receiver', () => {
  it('reports a refused connection', async () => {
    const port = await closedPort();

    const result = await deliver(`http://127.0.0.1:${port}/hooks`);

    expect(result).toEqual({
      ok: false,
      error: 'Connection refused by 127.0.0.1.',
      durationMs: expect.any(Number),
    });
  });
});
