import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveIntrinsics } from '../../local/intrinsics';

export const aslPath = join(__dirname, '../../statemachines/inference-job.asl.json');

export interface AslState {
  Type: string;
  Resource?: string | Record<string, unknown>;
  Next?: string;
  End?: boolean;
  Parameters?: Record<string, unknown>;
  Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
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
