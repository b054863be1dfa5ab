import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveIntrinsics } from '../../local/intrinsics';

export const aslPath = join(__dirname, '../../statemachines/inference-job.asl.json');

export interface AslChoiceRule {
  Variable?: string;
  NumericEquals?: number;
  NumericGreaterThan?: number;
  Next: string;
  [comparison: string]: unknown;
}

export interface AslState {
  Type: string;
  Comment?: string;
  Resource?: string | Record<string, unknown>;
  Next?: string;
  End?: boolean;
  Parameters?: Record<string, unknown>;
  ResultSelector?: Record<string, unknown>;
  ResultPath?: string | null;
  Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  /** Choice states. */
  Choices?: AslChoiceRule[];
  Default?: string;
  /** Fail states. */
  Error?: string;
  Cause?: string;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
}

/** The ASL file as committed, with CloudFormation intrinsics still in place. */
export const rawDefinition = (): AslDefinition => JSON.parse(readFileSync(aslPath, 'utf8')) as AslDefinition;

/** The ASL with intrinsics resolved to ARNs shaped like the deployment's. */
export const resolvedDefinition = (): AslDefinition =>
  resolveIntrinsics(rawDefinition(), (logicalId, attribute) =>
    attribute === 'Arn'
      ? `arn:aws:lambda:us-east-1:123456789012:function:longtail-test-${logicalId}`
      : logicalId.endsWith('Topic')
        ? `arn:aws:sns:us-east-1:123456789012:${logicalId}`
        : `arn:aws:batch:us-east-1:123456789012:${logicalId}`,
  ) as AslDefinition;

/**
 * The states an execution passes through when nothing fails: `Next` after each state, and at a
 * Choice the branch `choose` picks (given the state's name and rules; its Default when it says
 * nothing). Stops at a state with no way on, or when a state would repeat.
 */
export const happyPath = (
  definition: AslDefinition,
  choose: (name: string, state: AslState) => string | undefined = () => undefined,
): string[] => {
  const path: string[] = [];
  let name: string | undefined = definition.StartAt;
  while (name && !path.includes(name)) {
    path.push(name);
    const state: AslState | undefined = definition.States[name];
    name = state?.Type === 'Choice' ? (choose(name, state) ?? state.Default) : state?.Next;
  }
  return path;
};
