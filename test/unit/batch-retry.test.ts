import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { shouldRetry } from '../../local/batch';
import type { RetryRule } from '../../local/batch';

interface Template {
  resources: {
    Resources: {
      WorkerJobDefinition: {
        Properties: { RetryStrategy: { Attempts: number; EvaluateOnExit: RetryRule[] } };
      };
    };
  };
}

const template = parse(readFileSync(join(__dirname, '..', '..', 'serverless.yml'), 'utf8')) as Template;
const { EvaluateOnExit: rules } = template.resources.Resources.WorkerJobDefinition.Properties.RetryStrategy;

const exited = (
  exitCode: number | null,
  statusReason = 'Essential container in task exited',
  reason = '',
) => ({
  exitCode,
  reason,
  statusReason,
});

describe('shouldRetry with the worker job definition', () => {
  it('reads the rules from serverless.yml', () => {
    expect(rules.length).toBeGreaterThan(0);
  });

  it.each([137, 143])('runs the shard again when a signal stopped the worker (exit %i)', (code) => {
    expect(shouldRetry(rules, exited(code))).toBe(true);
  });

  it('does not retry a worker that exits 1 to say the job cannot succeed', () => {
    expect(shouldRetry(rules, exited(1))).toBe(false);
  });

  it('retries when the Spot host was reclaimed, whatever the exit code', () => {
    expect(shouldRetry(rules, exited(null, 'Host EC2 (instance i-0abc123) terminated.'))).toBe(true);
    expect(shouldRetry(rules, exited(1, 'Host EC2 (instance i-0abc123) terminated.'))).toBe(true);
  });

  it('does not retry a worker killed for its memory, though it exits 137 like a signalled one', () => {
    expect(
      shouldRetry(
        rules,
        exited(
          137,
          'Essential container in task exited',
          'OutOfMemoryError: Container killed due to memory usage',
        ),
      ),
    ).toBe(false);
  });

  it('does not retry a job whose image cannot be pulled', () => {
    expect(
      shouldRetry(
        rules,
        exited(
          null,
          'Task failed to start',
          'CannotPullContainerError: pull image manifest has been retried 5 time(s): not found',
        ),
      ),
    ).toBe(false);
  });

  it('ends on any other exit instead of Batch retrying it by default', () => {
    expect(shouldRetry(rules, exited(2))).toBe(false);
    expect(
      shouldRetry(rules, exited(null, 'Task failed to start', 'CannotStartContainerError: no image')),
    ).toBe(false);
  });
});

describe('shouldRetry', () => {
  it('lets the first matching rule decide', () => {
    const ordered: RetryRule[] = [
      { OnExitCode: '1', Action: 'EXIT' },
      { OnExitCode: '1', Action: 'RETRY' },
    ];

    expect(shouldRetry(ordered, exited(1))).toBe(false);
    expect(shouldRetry([...ordered].reverse(), exited(1))).toBe(true);
  });

  it('matches a pattern ending in * as a prefix and any other pattern as the whole value', () => {
    const rules: RetryRule[] = [
      { OnExitCode: '13*', Action: 'EXIT' },
      { OnStatusReason: 'Host', Action: 'EXIT' },
    ];

    expect(shouldRetry(rules, exited(137))).toBe(false);
    expect(shouldRetry(rules, exited(13))).toBe(false);
    expect(shouldRetry(rules, exited(3, 'Host EC2 terminated.'))).toBe(true);
    expect(shouldRetry(rules, exited(3, 'Host'))).toBe(false);
  });

  it('requires every condition of a rule to match', () => {
    const rules: RetryRule[] = [{ OnExitCode: '1', OnStatusReason: 'Essential*', Action: 'EXIT' }];

    expect(shouldRetry(rules, exited(1, 'Essential container in task exited'))).toBe(false);
    expect(shouldRetry(rules, exited(1, 'Task failed to start'))).toBe(true);
  });

  it('retries when no rule matches, as Batch does', () => {
    expect(shouldRetry([{ OnExitCode: '1', Action: 'EXIT' }], exited(2))).toBe(true);
    expect(shouldRetry([], exited(1))).toBe(true);
  });
});
