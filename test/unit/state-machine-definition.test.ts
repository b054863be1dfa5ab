import validator from 'asl-validator';
import { lambdaLogicalIdOf, loadServerlessConfig } from '../../local/serverless-config';
import { rawDefinition, resolvedDefinition } from '../support/state-machine';

const config = loadServerlessConfig();
const definition = rawDefinition();
const tasks = Object.entries(definition.States).filter(([, state]) => state.Type === 'Task');

describe('statemachines/inference-job.asl.json', () => {
  it('is valid Amazon States Language once its resource references are resolved', () => {
    const result = validator(resolvedDefinition(), { checkPaths: true, checkArn: true });
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('would be caught by the validator if a transition pointed nowhere', () => {
    const broken = resolvedDefinition();
    broken.States['Mark job running']!.Next = 'Run inference on a mainframe';
    expect(validator(broken).isValid).toBe(false);
  });

  it('marks the job running, runs it on Batch with .sync, completes it, and announces it', () => {
    const path: string[] = [];
    for (let name: string | undefined = definition.StartAt; name; name = definition.States[name]?.Next)
      path.push(name);

    expect(path).toEqual([
      'Mark job running',
      'Run inference on AWS Batch',
      'Record results and complete job',
      'Announce job completed',
      'Job completed',
    ]);
    expect(definition.States['Run inference on AWS Batch']?.Resource).toBe(
      'arn:aws:states:::batch:submitJob.sync',
    );
    expect(definition.States['Announce job completed']?.Resource).toBe('arn:aws:states:::sns:publish');
  });

  it('refers only to functions and resources serverless.yml defines', () => {
    const functionIds = Object.keys(config.functions).map(lambdaLogicalIdOf);
    const resourceIds = Object.keys(config.resources.Resources);
    const references = JSON.stringify(definition).match(/"(Ref|Fn::GetAtt)":\s*(\["[^"]+"|"[^"]+")/g) ?? [];

    expect(references.length).toBeGreaterThan(0);
    for (const reference of references) {
      const id = /(?:\[|:\s*)"([^"]+)"$/.exec(reference)?.[1] ?? '';
      expect([...functionIds, ...resourceIds]).toContain(id);
    }
  });

  it('sends every failure of a task to a state that marks the job failed, or to a Fail state', () => {
    for (const [name, state] of tasks) {
      const catchAll = state.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'));
      expect({ name, catches: Boolean(catchAll) }).toEqual({ name, catches: true });
      const target = definition.States[catchAll!.Next];
      const reachesFailure = catchAll!.Next === 'Mark job failed' || target?.Type === 'Fail';
      expect({ name, reachesFailure }).toEqual({ name, reachesFailure: true });
    }
  });

  it('marks the job failed, then announces the failure, then fails the execution', () => {
    expect(definition.States['Mark job failed']?.Next).toBe('Announce job failed');
    expect(definition.States['Announce job failed']?.Next).toBe('Job failed');
    expect(definition.States['Job failed']?.Type).toBe('Fail');
  });

  it('retries transient AWS errors with exponential backoff in every task', () => {
    for (const [name, state] of tasks) {
      const retries = state.Retry ?? [];
      expect({ name, retries: retries.length > 0 }).toEqual({ name, retries: true });
      for (const retry of retries) {
        expect(retry.BackoffRate ?? 1).toBeGreaterThan(1);
        expect(retry.MaxAttempts ?? 3).toBeGreaterThanOrEqual(3);
      }
    }
    const batchRetry = definition.States['Run inference on AWS Batch']?.Retry?.[0]?.ErrorEquals;
    expect(batchRetry).toEqual(expect.arrayContaining(['Batch.ServerException', 'Batch.AWSBatchException']));
    expect(batchRetry).not.toContain('States.TaskFailed');
  });

  it('keeps the state payload small: the Batch result is trimmed to its id and status', () => {
    const batch = definition.States['Run inference on AWS Batch'] as {
      ResultSelector?: Record<string, string>;
    };
    expect(Object.keys(batch.ResultSelector ?? {})).toEqual(['JobId.$', 'Status.$']);
  });
});
