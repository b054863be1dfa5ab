import { existsSync, mkdirSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { TestStack, apiKeys } from '../support/local-stack';

/**
 * The operator's console in a real browser (Debian's Chromium, headless) against the running
 * local stack. Alice is the operator (the first owner); Bob has a key but no operator rights.
 * LONGTAIL_CONSOLE_SCREENSHOTS=<folder> also saves the job page at 1280x800 and on a phone.
 */
const chromiumPath = process.env.LONGTAIL_CHROMIUM ?? '/usr/bin/chromium';
const screenshots = process.env.LONGTAIL_CONSOLE_SCREENSHOTS;

describe('the operator console in Chromium', () => {
  const local = new TestStack();
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(chromiumPath)) {
      throw new Error(
        `No Chromium at ${chromiumPath}: apt-get install -y chromium (or set LONGTAIL_CHROMIUM)`,
      );
    }
    await local.start({ batchConcurrency: 1 });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await local.stop();
    local.cleanUp();
  });

  /** A fresh tab (its own sessionStorage) on the console, with `key` entered. */
  const openConsole = async (
    key: string,
    hash = '',
    viewport = { width: 1280, height: 800 },
  ): Promise<Page> => {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto(`${local.stack.apiUrl}/console${hash}`);
    await page.fill('#key', key);
    await page.click('form button[type=submit]');
    return page;
  };

  const submit = async (body: unknown, key = apiKeys.alice) => {
    const answer = await local.api('/jobs', { method: 'POST', body, key });
    expect(answer.status).toBe(202);
    return String(answer.json.jobId);
  };

  it('submits a job from the page and follows it from pending to completed, then shows a state’s input', async () => {
    const page = await openConsole(apiKeys.alice);
    await page.waitForSelector('#submit-model option[value="churn-risk"]', { state: 'attached' });
    await page.selectOption('#submit-model', 'churn-risk');
    await page.fill('#submit-records', JSON.stringify(demoCustomers(3)));
    await page.click('#submit-job');
    await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
    const jobId = page.url().split('/').pop() ?? '';

    const seen: string[] = [];
    for (;;) {
      const status = (await page.textContent('#job-status').catch(() => null))?.trim();
      if (status && seen.at(-1) !== status) seen.push(status);
      if (status === 'completed' || status === 'failed') break;
      await page.waitForTimeout(50);
    }
    expect(seen.at(-1)).toBe('completed');
    // Whatever the page caught of the way, it moved only forward.
    const order = ['pending', 'running', 'completed'];
    expect(seen.map((status) => order.indexOf(status))).toEqual(
      [...seen.map((s) => order.indexOf(s))].sort(),
    );
    await page.waitForSelector('#job-cost:has-text("on demand")');
    expect(await page.textContent('#job-counts')).toContain('3 succeeded, 0 failed of 3');

    await page.click('[data-state="Mark job running"]');
    const input = await page.textContent('#state-detail .state-input');
    expect(JSON.parse(input ?? '')).toEqual({ jobId });
    await page.waitForSelector('.graph .state.succeeded[data-state="Record results and complete job"]');
    expect(await page.textContent('#outputs')).toContain('"label"');

    await page.click('a[href="#/"]');
    await page.selectOption('#filter-status', 'completed');
    await page.waitForSelector(`tr[data-job="${jobId}"] .badge.completed`);

    if (screenshots) {
      mkdirSync(screenshots, { recursive: true });
      await page.goto(`${local.stack.apiUrl}/console#/jobs/${jobId}`);
      await page.click('[data-state="Record results and complete job"]');
      await page.screenshot({ path: `${screenshots}/console-job.png`, fullPage: true });
      const phone = await openConsole(apiKeys.alice, `#/jobs/${jobId}`, { width: 390, height: 844 });
      await phone.waitForSelector('.graph .state.succeeded');
      await phone.screenshot({ path: `${screenshots}/console-job-phone.png` });
    }
  }, 90_000);

  it('cancels a running job from its page', async () => {
    const inputUri = await local.putInput('console/cancel.jsonl', toJsonLines(demoCustomers(60_000, 5)));
    const jobId = await submit({
      model: 'churn-risk',
      input: { s3Uri: inputUri },
      options: { shardSizeMB: 1, maxShards: 6 },
    });
    const page = await openConsole(apiKeys.alice, `#/jobs/${jobId}`);
    await page.waitForSelector('#job-status .badge.running', { timeout: 30_000 });
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#cancel');
    await page.waitForSelector('#job-status .badge.cancelled', { timeout: 30_000 });
    expect((await local.api(`/jobs/${jobId}`)).json.status).toBe('cancelled');
  }, 90_000);

  it('shows a failed shard’s error on the strip, and its worker logs', async () => {
    const good = toJsonLines(demoCustomers(20));
    const inputUri = await local.putInput(
      'console/bad.jsonl',
      `${good}{"tenure_months":"many","monthly_charges":1}\n`,
    );
    const jobId = await submit({
      model: 'churn-risk',
      input: { s3Uri: inputUri },
      options: { maxFailedRecordsPercent: 0 },
    });
    const job = await local.waitForJob(jobId);
    expect(job.status).toBe('failed');

    const page = await openConsole(apiKeys.alice, `#/jobs/${jobId}`);
    await page.waitForSelector('.shard.failed');
    expect(await page.textContent('.shard-error')).toContain(job.error?.code ?? 'no error');
    expect(await page.textContent('#job-error')).toContain(job.error?.code ?? 'no error');
    await page.click('.shard.failed');
    await page.waitForSelector('#logs h3:has-text("Attempt 1")');
    expect(await page.locator('#logs pre.log').count()).toBe(1);
    await page.waitForSelector('.graph .state.succeeded[data-state="Mark job failed"]');
  }, 90_000);

  it('shows a job’s webhook and its delivery attempts, never its secret', async () => {
    const answer = await local.api('/jobs', {
      method: 'POST',
      // Nothing listens on the discard port: the delivery fails, and its attempt is recorded.
      body: {
        model: 'churn-risk',
        input: { records: demoCustomers(1) },
        webhookUrl: 'http://127.0.0.1:9/hook',
      },
    });
    const jobId = String(answer.json.jobId);
    const secret = String(answer.json.webhookSecret);
    expect(secret).toMatch(/^whsec_/);

    const page = await openConsole(apiKeys.alice, `#/jobs/${jobId}`);
    await page.waitForSelector('#webhooks tbody tr', { timeout: 30_000 });
    expect(await page.textContent('#webhooks')).toContain('http://127.0.0.1:9/hook');
    expect(await page.content()).not.toContain(secret);
    expect(await page.content()).not.toContain('whsec_');
  }, 60_000);

  it('says, never blank, when the job is unknown, another owner’s, or its history is gone', async () => {
    const page = await openConsole(apiKeys.alice, '#/jobs/00000000-0000-4000-8000-000000000000');
    await page.waitForSelector('[role=alert]');
    expect(await page.textContent('[role=alert]')).toContain(
      'There is no job 00000000-0000-4000-8000-000000000000',
    );

    const bobsJob = await submit({ model: 'churn-risk', input: { records: demoCustomers(1) } }, apiKeys.bob);
    await page.goto(`${local.stack.apiUrl}/console#/jobs/${bobsJob}`);
    await page.waitForSelector(`[role=alert]:has-text("${bobsJob}")`);
    expect(await page.textContent('[role=alert]')).toContain('another owner');
    expect(await page.textContent('main')).not.toContain('churn-risk v');

    // A job whose execution is not known to Step Functions, as after an older .data/.
    const finished = await submit({ model: 'churn-risk', input: { records: demoCustomers(1) } });
    await local.waitForJob(finished);
    const documents = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: local.stack.awsEndpoint, region: local.stack.region }),
    );
    const { Item } = await documents.send(
      new GetCommand({ TableName: local.stack.names.jobsTable, Key: { jobId: finished } }),
    );
    const orphan = '11111111-1111-4111-8111-111111111111';
    await documents.send(
      new PutCommand({
        TableName: local.stack.names.jobsTable,
        Item: {
          ...Item,
          jobId: orphan,
          executionArn: `${String(Item?.executionArn).replace(finished, orphan)}`,
        },
      }),
    );
    documents.destroy();
    await page.goto(`${local.stack.apiUrl}/console#/jobs/${orphan}`);
    await page.waitForSelector('#graph-note [role=alert]');
    expect(await page.textContent('#graph-note')).toMatch(/history/i);
    // The rest of the page still shows the job, and the graph is drawn without colours.
    expect(await page.textContent('#job-status')).toContain('completed');
    expect(await page.locator('.graph .state.unvisited').count()).toBeGreaterThan(5);
  }, 90_000);

  it('turns away a key without operator rights, and a key that is not valid, with a clear message', async () => {
    const bob = await openConsole(apiKeys.bob);
    await bob.waitForSelector('[role=alert]');
    expect(await bob.textContent('[role=alert]')).toContain('no operator rights');
    expect(await bob.locator('#key').count()).toBe(1);

    const stranger = await openConsole('not-a-key');
    await stranger.waitForSelector('[role=alert]');
    expect(await stranger.textContent('[role=alert]')).toContain('not valid');
  });

  it('shows the queues: jobs queue, dead letters and Batch capacity', async () => {
    const page = await openConsole(apiKeys.alice, '#/queues');
    await page.waitForSelector('#jobs-queue');
    expect(await page.textContent('#queues')).toContain('compute environment local: ENABLED, VALID');
    expect(await page.textContent('#batch-runnable')).toMatch(/RUNNABLE/);
  });
});
