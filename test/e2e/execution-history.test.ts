import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoCustomers } from '../../local/demo-data';
import { TestStack } from '../support/local-stack';

const awsCliPresent = (() => {
  try {
    execFileSync('aws', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Every event of an execution's history, page by page as a client would read it. */
const allEvents = async (sfn: SFNClient, executionArn: string, maxResults: number, reverseOrder = false) => {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults, nextToken, reverseOrder }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
    pages++;
  } while (nextToken);
  return { events, pages };
};

describe('GetExecutionHistory on the local Step Functions', () => {
  const local = new TestStack();
  let sfn: SFNClient;
  let executionArn: string;

  beforeAll(async () => {
    await local.start();
    sfn = new SFNClient({
      endpoint: local.stack.awsEndpoint,
      region: local.stack.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'churn-risk', input: { records: demoCustomers(3) } },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));
    executionArn = String(job.executionArn);
  });

  afterAll(async () => {
    sfn.destroy();
    await local.stop();
    local.cleanUp();
  });

  it('answers every state entered and exited, with input, output and task events, as AWS shapes them', async () => {
    const { events } = await allEvents(sfn, executionArn, 1000);
    const types = events.map((e) => e.type);

    expect(types[0]).toBe('ExecutionStarted');
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(events.slice(1).every((e, i) => e.previousEventId === events[i]!.id)).toBe(true);
    expect(events.every((e) => e.timestamp instanceof Date)).toBe(true);
    const entered = events
      .filter((e) => e.stateEnteredEventDetails)
      .map((e) => e.stateEnteredEventDetails!.name);
    expect(entered).toEqual([
      'Mark job running',
      'Plan the shards',
      'One shard or many?',
      'Run inference on AWS Batch',
      'Record results and complete job',
      'Announce job completed',
      'Job completed',
    ]);
    // Each state's exit follows its entry, and every Task attempt is scheduled, started and ends.
    expect(types.filter((t) => t?.endsWith('StateExited'))).toHaveLength(entered.length);
    expect(types).toEqual(
      expect.arrayContaining([
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
        'LambdaFunctionSucceeded',
        'TaskScheduled',
        'TaskStarted',
        'TaskSucceeded',
      ]),
    );
    const batch = events.find((e) => e.taskScheduledEventDetails?.resource === 'submitJob.sync');
    expect(batch?.taskScheduledEventDetails).toMatchObject({
      resourceType: 'batch',
      region: local.stack.region,
    });
    expect(JSON.parse(batch!.taskScheduledEventDetails!.parameters!)).toMatchObject({
      JobName: expect.stringMatching(/^longtail-/),
    });
    const planned = events.find(
      (e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'Plan the shards',
    );
    expect(JSON.parse(planned!.stateExitedEventDetails!.output!)).toMatchObject({ plan: { shardCount: 1 } });
    const started = events[0]!.executionStartedEventDetails!;
    expect(JSON.parse(started.input!)).toMatchObject({ jobId: expect.any(String) });
  });

  it('pages with maxResults and nextToken, backwards with reverseOrder, and drops data when asked', async () => {
    const { events: whole } = await allEvents(sfn, executionArn, 1000);
    const paged = await allEvents(sfn, executionArn, 4);
    expect(paged.events).toEqual(whole);
    expect(paged.pages).toBe(Math.ceil(whole.length / 4));
    const reversed = await allEvents(sfn, executionArn, 5, true);
    expect(reversed.events).toEqual([...whole].reverse());

    const bare = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false }),
    );
    expect(bare.events?.[0]?.executionStartedEventDetails).toEqual({ roleArn: expect.any(String) });
    expect(bare.events?.some((e) => e.stateEnteredEventDetails?.input !== undefined)).toBe(false);
    expect(bare.events?.filter((e) => e.stateEnteredEventDetails).length).toBeGreaterThan(0);
  });

  it('refuses an unknown execution, a bad token and too many results as AWS does', async () => {
    await expect(
      sfn.send(new GetExecutionHistoryCommand({ executionArn: `${executionArn}-nope` })),
    ).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
    await expect(
      sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken: 'garbage' })),
    ).rejects.toMatchObject({ name: 'InvalidToken' });
    await expect(
      sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 5000 })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  (awsCliPresent ? describe : describe.skip)('where the AWS CLI is installed', () => {
    it('is read by the AWS CLI', async () => {
      // Asynchronously: the endpoint answers from this process.
      const { stdout: out } = await promisify(execFile)(
        'aws',
        [
          'stepfunctions',
          'get-execution-history',
          '--execution-arn',
          executionArn,
          '--endpoint-url',
          local.stack.awsEndpoint,
          '--region',
          local.stack.region,
          '--output',
          'json',
        ],
        {
          env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
          encoding: 'utf8',
        },
      );
      const answer = JSON.parse(out) as { events: { type: string }[] };
      expect(answer.events[0]?.type).toBe('ExecutionStarted');
      expect(answer.events.at(-1)?.type).toBe('ExecutionSucceeded');
    });
  });

  it('keeps the history across a restart, and answers a short one for an execution recorded before histories', async () => {
    const { events: before } = await allEvents(sfn, executionArn, 1000);
    await local.stop();
    const historyDir = join(local.dataDir, 'stepfunctions', 'history');
    // An execution from an older .data/: in the executions file, with no history file.
    const executionsFile = join(local.dataDir, 'stepfunctions', 'executions.json');
    const old = readFileSync(executionsFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((record) => record.executionArn === executionArn && record.status === 'SUCCEEDED')!;
    const oldArn = `${String(old.executionArn)}-old`;
    appendFileSync(
      executionsFile,
      `${JSON.stringify({ ...old, executionArn: oldArn, name: `${String(old.name)}-old` })}\n`,
    );
    writeFileSync(join(historyDir, 'ignored.txt'), 'not a history');

    await local.start();
    sfn.destroy();
    sfn = new SFNClient({
      endpoint: local.stack.awsEndpoint,
      region: local.stack.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const { events: after } = await allEvents(sfn, executionArn, 1000);
    expect(after).toEqual(before);
    const { events: short } = await allEvents(sfn, oldArn, 100);
    expect(short.map((e) => e.type)).toEqual(['ExecutionStarted', 'ExecutionSucceeded']);
    expect(short[0]?.executionStartedEventDetails?.input).toBe(old.input);
  });
});
