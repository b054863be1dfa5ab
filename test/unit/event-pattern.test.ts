import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { matchesPattern } from '../../local/event-pattern';
import { testResources } from '../fixtures/env';
import { executionStatusChange } from '../fixtures/eventbridge-events';

interface ServerlessYml {
  functions: Record<string, { events?: { eventBridge?: { pattern: Record<string, unknown> } }[] }>;
}

/** Replaces every `{ Ref: InferenceJobStateMachine }` with the state machine's ARN, as CloudFormation does. */
const resolveStateMachineRef = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(resolveStateMachineRef);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]?.[0] === 'Ref' && entries[0][1] === 'InferenceJobStateMachine') {
      return testResources.stateMachineArn;
    }
    return Object.fromEntries(entries.map(([key, child]) => [key, resolveStateMachineRef(child)]));
  }
  return value;
};

const serverlessYml = parse(
  readFileSync(join(__dirname, '..', '..', 'serverless.yml'), 'utf8'),
) as ServerlessYml;
const reconcilePattern = resolveStateMachineRef(
  serverlessYml.functions.reconcile?.events?.find((event) => event.eventBridge)?.eventBridge?.pattern,
);

describe('matchesPattern', () => {
  it('matches a value the pattern lists, and no other', () => {
    expect(matchesPattern({ source: ['aws.states', 'aws.batch'] }, { source: 'aws.batch' })).toBe(true);
    expect(matchesPattern({ source: ['aws.states', 'aws.batch'] }, { source: 'aws.s3' })).toBe(false);
  });

  it('matches nested objects key by key and ignores keys the pattern does not name', () => {
    const pattern = { detail: { status: ['FAILED'], error: ['States.Runtime'] } };

    expect(
      matchesPattern(pattern, { detail: { status: 'FAILED', error: 'States.Runtime', name: 'x' } }),
    ).toBe(true);
    expect(matchesPattern(pattern, { detail: { status: 'FAILED', error: 'States.Timeout' } })).toBe(false);
  });

  it('does not match an event that lacks a key the pattern names', () => {
    expect(matchesPattern({ detail: { status: ['FAILED'] } }, { detail: {} })).toBe(false);
    expect(matchesPattern({ detail: { status: ['FAILED'] } }, { source: 'aws.states' })).toBe(false);
  });

  it('does not match when the event has a plain value where the pattern has an object', () => {
    expect(matchesPattern({ detail: { status: ['FAILED'] } }, { detail: 'FAILED' })).toBe(false);
    expect(matchesPattern({ detail: { status: ['FAILED'] } }, { detail: null })).toBe(false);
  });

  it('matches everything with an empty pattern', () => {
    expect(matchesPattern({}, { source: 'aws.states' })).toBe(true);
  });
});

describe("matchesPattern with the reconcile function's pattern from serverless.yml", () => {
  it('reads the pattern, with the state machine reference resolved', () => {
    expect(reconcilePattern).toMatchObject({
      source: ['aws.states'],
      detail: { stateMachineArn: [testResources.stateMachineArn] },
    });
  });

  it.each(['FAILED', 'TIMED_OUT', 'ABORTED'] as const)(
    'matches an inference-job execution that ended %s',
    (status) => {
      expect(matchesPattern(reconcilePattern, executionStatusChange(status))).toBe(true);
    },
  );

  it.each(['SUCCEEDED', 'RUNNING'] as const)('does not match an execution that is %s', (status) => {
    expect(matchesPattern(reconcilePattern, executionStatusChange(status))).toBe(false);
  });

  it('does not match a failed execution of another state machine', () => {
    const other = executionStatusChange('FAILED', {
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:someone-else',
    });

    expect(matchesPattern(reconcilePattern, other)).toBe(false);
  });

  it('does not match another detail type from Step Functions', () => {
    const event = {
      ...executionStatusChange('FAILED'),
      'detail-type': 'Step Functions State Machine Status Change',
    };

    expect(matchesPattern(reconcilePattern, event)).toBe(false);
  });
});
