import { summarizeExecution } from '../../lib/domain/execution-history';
import type { HistoryEvent } from '../../lib/ports/executions';

let id = 0;
const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
const event = (second: number, type: string, fields: Partial<HistoryEvent> = {}): HistoryEvent => ({
  id: ++id,
  timestamp: at(second),
  type,
  ...fields,
});

describe('summarizeExecution', () => {
  it('gives each state entered its input, output and time, in order', () => {
    const summary = summarizeExecution([
      event(0, 'ExecutionStarted', { input: '{"jobId":"j"}' }),
      event(0, 'TaskStateEntered', { stateName: 'Mark job running', input: '{"jobId":"j"}' }),
      event(0, 'TaskScheduled'),
      event(1, 'TaskSucceeded', { output: 'null' }),
      event(2, 'TaskStateExited', { stateName: 'Mark job running', output: '{"jobId":"j"}' }),
      event(2, 'ChoiceStateEntered', { stateName: 'One shard or many?', input: '{"plan":{"shardCount":1}}' }),
      event(2, 'ChoiceStateExited', { stateName: 'One shard or many?', output: '{"plan":{"shardCount":1}}' }),
      event(3, 'SucceedStateEntered', { stateName: 'Job completed', input: '{}' }),
      event(3, 'SucceedStateExited', { stateName: 'Job completed', output: '{}' }),
      event(3, 'ExecutionSucceeded', { output: '{}' }),
    ]);

    expect(summary.status).toBe('SUCCEEDED');
    expect(summary.runs.map((run) => [run.stateName, run.status, run.durationMs])).toEqual([
      ['Mark job running', 'succeeded', 2000],
      ['One shard or many?', 'succeeded', 0],
      ['Job completed', 'succeeded', 0],
    ]);
    expect(summary.runs[0]?.input).toEqual({ jobId: 'j' });
    expect(summary.runs[1]?.output).toEqual({ plan: { shardCount: 1 } });
  });

  it('counts retries, tells a caught error from a retried one, and marks the state that failed the execution', () => {
    const summary = summarizeExecution([
      event(0, 'ExecutionStarted'),
      event(0, 'TaskStateEntered', { stateName: 'Plan the shards', input: '{}' }),
      event(0, 'TaskScheduled'),
      event(1, 'TaskFailed', { error: 'ThrottlingException', cause: 'slow down' }),
      event(3, 'TaskScheduled'),
      event(4, 'TaskSucceeded'),
      event(4, 'TaskStateExited', { stateName: 'Plan the shards', output: '{"plan":{}}' }),
      event(4, 'TaskStateEntered', { stateName: 'Run inference on AWS Batch', input: '{}' }),
      event(4, 'TaskScheduled'),
      event(9, 'TaskFailed', {
        error: 'States.TaskFailed',
        cause: '{"StatusReason":"Essential container in task exited"}',
      }),
      event(9, 'TaskStateExited', { stateName: 'Run inference on AWS Batch', output: '{"error":{}}' }),
      event(9, 'FailStateEntered', { stateName: 'Job failed', input: '{}' }),
      event(9, 'ExecutionFailed', { error: 'JobFailed', cause: 'shard 0 failed' }),
    ]);

    expect(summary.status).toBe('FAILED');
    expect(summary.error).toEqual({ error: 'JobFailed', cause: 'shard 0 failed' });
    const [plan, run, fail] = summary.runs;
    expect(plan).toMatchObject({ status: 'succeeded', retries: 1, error: null });
    expect(run).toMatchObject({
      status: 'caught',
      retries: 0,
      error: { error: 'States.TaskFailed', cause: { StatusReason: 'Essential container in task exited' } },
    });
    expect(fail).toMatchObject({ stateName: 'Job failed', status: 'failed', error: { error: 'JobFailed' } });
  });

  it('leaves the state still running open, and shows an aborted execution’s last state as aborted', () => {
    const running = summarizeExecution([
      event(0, 'ExecutionStarted'),
      event(0, 'TaskStateEntered', { stateName: 'Run inference on AWS Batch', input: 'not json' }),
    ]);
    expect(running.status).toBe('RUNNING');
    expect(running.runs[0]).toMatchObject({
      status: 'running',
      exitedAt: null,
      durationMs: null,
      input: 'not json',
    });

    const aborted = summarizeExecution([
      event(0, 'TaskStateEntered', { stateName: 'Run inference on AWS Batch', input: '{}' }),
      event(5, 'ExecutionAborted', { error: 'JobCancelled', cause: 'Cancelled by its owner' }),
    ]);
    expect(aborted.status).toBe('ABORTED');
    expect(aborted.runs[0]).toMatchObject({ status: 'aborted', durationMs: 5000 });
  });
});
