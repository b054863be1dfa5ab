import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveIntrinsics } from '../../local/intrinsics';
import type { ResourceResolver } from '../../local/intrinsics';

const resolver: ResourceResolver = (logicalId, attribute) =>
  attribute ? `arn:local:${logicalId}:${attribute}` : `name:${logicalId}`;

describe('resolveIntrinsics', () => {
  it('resolves Ref to the resource name', () => {
    expect(resolveIntrinsics({ Ref: 'JobsTable' }, resolver)).toBe('name:JobsTable');
  });

  it('resolves Fn::GetAtt to the attribute', () => {
    expect(resolveIntrinsics({ 'Fn::GetAtt': ['MarkJobRunningLambdaFunction', 'Arn'] }, resolver)).toBe(
      'arn:local:MarkJobRunningLambdaFunction:Arn',
    );
  });

  it('resolves intrinsics nested in objects and arrays and leaves everything else as it was', () => {
    const value = {
      Resource: { 'Fn::GetAtt': ['Fn', 'Arn'] },
      Parameters: {
        JobQueue: { Ref: 'GpuJobQueue' },
        'jobId.$': '$.jobId',
        Size: 2,
        Flag: true,
        Nothing: null,
      },
      Targets: [{ Ref: 'A' }, 'plain', 3],
    };

    expect(resolveIntrinsics(value, resolver)).toEqual({
      Resource: 'arn:local:Fn:Arn',
      Parameters: { JobQueue: 'name:GpuJobQueue', 'jobId.$': '$.jobId', Size: 2, Flag: true, Nothing: null },
      Targets: ['name:A', 'plain', 3],
    });
  });

  it('treats an object with Ref beside other keys as plain data', () => {
    const value = { Ref: 'X', Other: 1 };

    expect(resolveIntrinsics(value, resolver)).toEqual({ Ref: 'X', Other: 1 });
  });

  it('leaves the state machine definition with no intrinsics and resolves each resource it names', () => {
    const asl: unknown = JSON.parse(
      readFileSync(join(__dirname, '..', '..', 'statemachines', 'inference-job.asl.json'), 'utf8'),
    );
    const asked: string[] = [];

    const resolved = resolveIntrinsics(asl, (logicalId, attribute) => {
      asked.push(attribute ? `${logicalId}.${attribute}` : logicalId);
      return resolver(logicalId, attribute);
    });

    const text = JSON.stringify(resolved);
    expect(text).not.toContain('"Ref"');
    expect(text).not.toContain('Fn::GetAtt');
    expect(new Set(asked)).toEqual(
      new Set([
        'MarkJobRunningLambdaFunction.Arn',
        'PlanShardsLambdaFunction.Arn',
        'CompleteJobLambdaFunction.Arn',
        'MarkJobFailedLambdaFunction.Arn',
        'GpuJobQueue',
        'WorkerJobDefinition',
        'JobEventsTopic',
      ]),
    );
  });
});
