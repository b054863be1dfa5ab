import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyPage } from '../../local/execution-history';
import { LocalStepFunctions } from '../../local/stepfunctions';

const dataDir = mkdtempSync(join(tmpdir(), 'longtail-history-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const waitForEnd = async (sfn: LocalStepFunctions, arn: string) => {
  while (sfn.describeExecution(arn).status === 'RUNNING') await new Promise((r) => setTimeout(r, 5));
  return sfn.describeExecution(arn);
};

describe('the local Step Functions history', () => {
  it('records Map iterations, each Task attempt, a caught failure and the end, as AWS names them', async () => {
    const sfn = new LocalStepFunctions('us-east-1', '000000000000', join(dataDir, 'a', 'executions.json'));
    let calls = 0;
    const arn = sfn.registerStateMachine(
      'history-test',
      {
        StartAt: 'Each item',
        States: {
          'Each item': {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemProcessor: {
              StartAt: 'Double',
              States: {
                Double: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:0:function:double', End: true },
              },
            },
            ResultPath: '$.doubled',
            Next: 'Publish',
          },
          Publish: {
            Type: 'Task',
            Resource: 'arn:aws:states:::sns:publish',
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Gave up' }],
            End: true,
          },
          'Gave up': { Type: 'Fail', Error: 'GaveUp', Cause: 'publish failed' },
        },
      },
      (resource) =>
        resource.endsWith(':double')
          ? async (input) => (input as number) * 2
          : async () => {
              calls++;
              throw Object.assign(new Error('no topic'), { name: 'SNS.NotFound' });
            },
    );

    const { executionArn } = sfn.startExecution(arn, 'one', JSON.stringify({ items: [1, 2] }));
    const ended = await waitForEnd(sfn, executionArn);
    const events = sfn.executionHistory(executionArn);
    const types = events.map((e) => e.type);

    expect(ended).toMatchObject({ status: 'FAILED', error: 'GaveUp' });
    expect(calls).toBe(1);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types.at(-1)).toBe('ExecutionFailed');
    expect(events.at(-1)?.executionFailedEventDetails).toEqual({ error: 'GaveUp', cause: 'publish failed' });
    expect(types.filter((t) => t === 'MapIterationStarted')).toHaveLength(2);
    expect(types.filter((t) => t === 'MapIterationSucceeded')).toHaveLength(2);
    expect(types.filter((t) => t === 'LambdaFunctionSucceeded')).toHaveLength(2);
    // The service integration's attempt: scheduled, started, failed, after its state was entered.
    const publish = types.indexOf('TaskStateEntered', types.indexOf('MapStateExited'));
    expect(types.slice(publish, publish + 4)).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
    ]);
    expect(events[publish + 3]?.taskFailedEventDetails).toEqual({
      resourceType: 'sns',
      resource: 'publish',
      error: 'SNS.NotFound',
      cause: 'no topic',
    });
    expect(types).toContain('FailStateEntered');
    const mapExit = events.find((e) => e.type === 'MapStateExited');
    expect(JSON.parse(String((mapExit?.stateExitedEventDetails as { output: string }).output))).toEqual({
      items: [1, 2],
      doubled: [2, 4],
    });
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));

    // The same history read by a runtime started again on the same folder.
    const again = new LocalStepFunctions('us-east-1', '000000000000', join(dataDir, 'a', 'executions.json'));
    expect(again.executionHistory(executionArn)).toEqual(events);
  });

  it('pages forwards and backwards with opaque tokens, and drops data when asked', () => {
    const events = [1, 2, 3, 4, 5].map((id) => ({
      id,
      previousEventId: id - 1,
      timestamp: id,
      type: 'PassStateEntered',
      stateEnteredEventDetails: { name: `s${id}`, input: '{}', inputDetails: { truncated: false } },
    }));
    const first = historyPage(events, { maxResults: 2, reverseOrder: true });
    const second = historyPage(events, { maxResults: 2, reverseOrder: true, nextToken: first.nextToken });
    const last = historyPage(events, { maxResults: 2, reverseOrder: true, nextToken: second.nextToken });

    expect([...first.events, ...second.events, ...last.events].map((e) => e.id)).toEqual([5, 4, 3, 2, 1]);
    expect(last.nextToken).toBeUndefined();
    expect(historyPage(events, { includeExecutionData: false }).events[0]?.stateEnteredEventDetails).toEqual({
      name: 's1',
    });
    expect(() => historyPage(events, { nextToken: 'not-ours' })).toThrow('Invalid Token');
  });

  describe('an execution that had ended when the runtime was killed, its record still RUNNING', () => {
    const machine = {
      StartAt: 'Work',
      States: {
        Work: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:0:function:work', Next: 'Done' },
        Done: { Type: 'Succeed' },
      },
    };

    /** Runs one execution to its end, then leaves the folder as a SIGKILL before the record was saved would. */
    const endedThenKilled = async (folder: string, cutHistory: (lines: string[]) => string[]) => {
      const journal = join(dataDir, folder, 'executions.json');
      const sfn = new LocalStepFunctions('us-east-1', '000000000000', journal);
      const arn = sfn.registerStateMachine('ended', machine, () => async () => ({ worked: true }));
      const { executionArn } = sfn.startExecution(arn, 'one', '{}');
      const ended = await waitForEnd(sfn, executionArn);
      appendFileSync(journal, `${JSON.stringify({ ...ended, status: 'RUNNING', output: undefined })}\n`);
      const historyDir = join(dataDir, folder, 'history');
      const file = join(historyDir, readdirSync(historyDir)[0]!);
      writeFileSync(file, cutHistory(readFileSync(file, 'utf8').trimEnd().split('\n')).join('\n') + '\n');
      let calls = 0;
      const again = new LocalStepFunctions('us-east-1', '000000000000', journal);
      again.registerStateMachine('ended', machine, () => async () => ({ worked: ++calls }));
      return {
        outcome: again.resumeInterrupted(),
        record: again.describeExecution(executionArn),
        calls: () => calls,
      };
    };

    it('is closed as its history recorded it, without running a state again', async () => {
      const { outcome, record, calls } = await endedThenKilled('ended-recorded', (lines) => lines);

      expect(outcome).toEqual({ resumed: [], failed: [] });
      expect(record).toMatchObject({ status: 'SUCCEEDED', output: JSON.stringify({ worked: true }) });
      expect(calls()).toBe(0);
    });

    it("succeeds with its last state's output when killed after that state exited, before the end event", async () => {
      const { outcome, record, calls } = await endedThenKilled('ended-unrecorded', (lines) =>
        lines.filter((line) => !line.includes('"ExecutionSucceeded"')),
      );

      expect(outcome).toEqual({ resumed: [], failed: [] });
      expect(record).toMatchObject({ status: 'SUCCEEDED', output: JSON.stringify({ worked: true }) });
      expect(calls()).toBe(0);
    });
  });
});
