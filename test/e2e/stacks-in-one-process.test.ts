import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { developmentApiKeys } from '../../lib/auth/api-keys';
import { startLocalStack } from '../../local/stack';
import type { LocalStack } from '../../local/stack';
import churnManifest from '../../models/churn-risk/model.json';

const apiKey = developmentApiKeys.split(':')[1] ?? '';
const folders: string[] = [];
const start = () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'longtail-nested-'));
  folders.push(dataDir);
  return startLocalStack({ apiPort: 0, awsPort: 0, dataDir, apiKeys: developmentApiKeys });
};
afterAll(() => folders.forEach((folder) => rmSync(folder, { recursive: true, force: true })));

const oneRecordJob = async (stack: LocalStack) => {
  const response = await fetch(`${stack.apiUrl}/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'churn-risk',
      input: {
        records: [churnManifest.example],
      },
    }),
  });
  return { status: response.status, body: (await response.json()) as { jobId?: string } };
};

describe('local stacks started one inside another in the same process (the bench does)', () => {
  it('leaves the first stack working once the second has stopped', async () => {
    const first = await start();
    try {
      const second = await start();
      expect((await oneRecordJob(second)).status).toBe(202);
      await second.stop();

      const submitted = await oneRecordJob(first);
      expect(submitted.status).toBe(202);
    } finally {
      await first.stop();
    }
  }, 120_000);
});
