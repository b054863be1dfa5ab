import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { demoCustomers } from '../../local/demo-data';
import { Webhook } from 'standardwebhooks';
import { verifyWebhook } from '../../lib/webhooks/signing';
import { TestStack } from '../support/local-stack';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback that fails the first `failures` deliveries with 500. */
const startReceiver = async (failures: number) => {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(received.length <= failures ? 500 : 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    received,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/longtail`,
    server,
  };
};

describe('webhooks', () => {
  const local = new TestStack();

  beforeAll(async () => {
    process.env.WEBHOOK_RETRY_BASE_SECONDS = '1';
    await local.start();
  });

  afterAll(async () => {
    delete process.env.WEBHOOK_RETRY_BASE_SECONDS;
    await local.stop();
    local.cleanUp();
  });

  it('POSTs a signed job.completed event to the job’s webhookUrl, retrying a failing receiver, and records each attempt', async () => {
    const receiver = await startReceiver(1);
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { records: demoCustomers(3) }, webhookUrl: receiver.url },
    });
    const secret = String(submitted.json.webhookSecret);
    const jobId = String(submitted.json.jobId);
    await local.waitForJob(jobId);

    const deadline = Date.now() + 20_000;
    while (receiver.received.length < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 500));
    receiver.server.close();
    const job = (await local.api(`/jobs/${jobId}`)).json as {
      webhookAttempts: { ok: boolean; status?: number }[];
      webhookSecret?: string;
    };

    expect(secret).toMatch(/^whsec_/);
    expect(receiver.received).toHaveLength(2);
    const [first, second] = receiver.received as [Received, Received];
    expect(first.headers['webhook-id']).toBe(second.headers['webhook-id']);
    expect(verifyWebhook(second.headers as Record<string, string>, second.body, secret)).toBe(true);
    // The reference library verifies it too, as any receiver would.
    expect(new Webhook(secret).verify(second.body, second.headers as Record<string, string>)).toMatchObject({
      type: 'job.completed',
    });
    expect(
      verifyWebhook(
        second.headers as Record<string, string>,
        second.body.replace('completed', 'failed'),
        secret,
      ),
    ).toBe(false);
    expect(JSON.parse(second.body)).toMatchObject({
      type: 'job.completed',
      data: { jobId, status: 'completed' },
    });
    expect(job.webhookAttempts.map((a) => [a.ok, a.status])).toEqual([
      [false, 500],
      [true, 204],
    ]);
    expect(job.webhookSecret).toBeUndefined();
  }, 40_000);

  it('refuses a webhookUrl aimed at the instance metadata service', async () => {
    const response = await local.api('/jobs', {
      method: 'POST',
      body: {
        model: 'churn-risk',
        input: { records: demoCustomers(1) },
        webhookUrl: 'http://169.254.169.254/latest/meta-data/',
      },
    });

    expect(response.status).toBe(400);
    expect(response.json.error?.code).toBe('INVALID_WEBHOOK_URL');
  });
});
