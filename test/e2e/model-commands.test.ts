import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { apiKeys, useLocalStack } from '../support/local-stack';
import { buildTwoInputModel } from '../support/onnx-models';

const run = promisify(execFile);
const root = join(__dirname, '../..');

/** Runs one of the npm scripts' programs as a user would, against the test stack. */
const command = (script: string, args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', join(root, script), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    timeout: 60_000,
  });

describe('npm run models:push and models:draft', () => {
  const local = useLocalStack();
  const folder = mkdtempSync(join(tmpdir(), 'longtail-models-'));

  it('registers a model in one command, waits for its check, and a job runs it', async () => {
    const file = join(folder, 'adder.onnx');
    writeFileSync(file, buildTwoInputModel());

    const { stdout } = await command('models/push.ts', ['pushed-adder', file, '--alias', 'prod'], {
      LONGTAIL_API_URL: local.stack.apiUrl,
      LONGTAIL_API_KEY: apiKeys.alice,
    });

    expect(JSON.parse(stdout)).toMatchObject({ ref: 'pushed-adder:1', status: 'ready' });
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'pushed-adder@prod', input: { records: [{ ids: [1, 0, 0, 0], scale: 3 }] } },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));
    expect(await local.readJsonLines(job.outputUri)).toEqual([{ sum: 3, ids_plus_one: [2, 1, 1, 1] }]);
  });

  it("exits non-zero with the check's reason when the model cannot load", async () => {
    const file = join(folder, 'broken.onnx');
    writeFileSync(file, 'not a graph');

    const failure = command('models/push.ts', ['broken', file], {
      LONGTAIL_API_URL: local.stack.apiUrl,
      LONGTAIL_API_KEY: apiKeys.alice,
    });

    await expect(failure).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining('INVALID_MODEL'),
    });
  });

  it('drafts a manifest from a graph that the registry takes and serves with named fields', async () => {
    const { stdout } = await command('models/draft-manifest.ts', [
      join(root, 'models/churn-risk/model.onnx'),
      'drafted',
    ]);
    const draft = JSON.parse(stdout) as { fields: { name: string }[]; example: Record<string, number> };
    expect(draft.fields.map((f) => f.name)).toEqual(Array.from({ length: 8 }, (_, i) => `feature_${i}`));
    const manifestFile = join(folder, 'drafted.json');
    writeFileSync(manifestFile, stdout);

    await command(
      'models/push.ts',
      ['drafted', join(root, 'models/churn-risk/model.onnx'), '--manifest', manifestFile],
      {
        LONGTAIL_API_URL: local.stack.apiUrl,
        LONGTAIL_API_KEY: apiKeys.alice,
      },
    );
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'drafted', input: { records: [draft.example] } },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));

    expect(job.status).toBe('completed');
    const [line] = await local.readJsonLines<{ label: string; score: number }>(job.outputUri);
    expect(['negative', 'positive']).toContain(line?.label);
  });
});
