import validator from 'asl-validator';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { batchJobNameOf } from '../../lib/domain/locations';
import { resumableErrorCodes } from '../../lib/domain/job-resume';
import { lambdaLogicalIdOf, loadServerlessConfig } from '../../local/serverless-config';
import { happyPath, rawDefinition, resolvedDefinition } from '../support/state-machine';

const config = loadServerlessConfig();
const definition = rawDefinition();
const tasks = Object.entries(definition.States).filter(([, state]) => state.Type === 'Task');
const batchStates = ['Run inference on AWS Batch', 'Run shards as an AWS Batch array job'];

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

  it('marks the job running, plans its shards, runs one shard as a single Batch job, completes it, and announces it', () => {
    const oneShard = happyPath(
      definition,
      (_, state) => state.Choices?.find((c) => c.NumericEquals === 1)?.Next,
    );

    expect(oneShard).toEqual([
      'Mark job running',
      'Plan the shards',
      'One shard or many?',
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

  it('runs several shards as an AWS Batch array job, then completes the job the same way', () => {
    const manyShards = happyPath(definition);

    expect(manyShards).toEqual([
      'Mark job running',
      'Plan the shards',
      'One shard or many?',
      'Run shards as an AWS Batch array job',
      'Record results and complete job',
      'Announce job completed',
      'Job completed',
    ]);
    expect(definition.States['Run shards as an AWS Batch array job']?.Resource).toBe(
      'arn:aws:states:::batch:submitJob.sync',
    );
  });

  it('chooses by the shard count the plan returned: exactly one goes to the single job', () => {
    const choice = definition.States['One shard or many?'];

    expect(choice?.Type).toBe('Choice');
    expect(choice?.Choices).toEqual([
      { Variable: '$.plan.shardCount', NumericEquals: 1, Next: 'Run inference on AWS Batch' },
    ]);
    expect(choice?.Default).toBe('Run shards as an AWS Batch array job');
    expect(definition.States['Plan the shards']?.ResultPath).toBe('$.plan');
  });

  it('sizes the array job by the shard count and gives both Batch jobs the plan, not the job details', () => {
    const single = definition.States['Run inference on AWS Batch']?.Parameters ?? {};
    const array = definition.States['Run shards as an AWS Batch array job']?.Parameters ?? {};
    const environment = (parameters: Record<string, unknown>) =>
      (parameters.ContainerOverrides as { Environment: Record<string, string>[] }).Environment;

    expect(array.ArrayProperties).toEqual({ 'Size.$': '$.plan.shardCount' });
    expect(single).not.toHaveProperty('ArrayProperties');
    for (const parameters of [single, array]) {
      expect(environment(parameters)).toEqual([
        { Name: 'LONGTAIL_JOB_ID', 'Value.$': '$.jobId' },
        { Name: 'LONGTAIL_PLAN_URI', 'Value.$': '$.plan.planUri' },
      ]);
    }
  });

  it('keeps only the job id on the way from "Mark job running" to planning', () => {
    expect(definition.States['Mark job running']?.ResultPath).toBeNull();
    expect(definition.States['Plan the shards']?.Parameters).toEqual({ 'jobId.$': '$.jobId' });
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
    // "Wait for a resume" fails the execution on purpose (see the next tests): it catches nothing.
    for (const [name, state] of tasks.filter(([name]) => name !== 'Wait for a resume')) {
      const catchAll = state.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'));
      expect({ name, catches: Boolean(catchAll) }).toEqual({ name, catches: true });
      const target = definition.States[catchAll!.Next];
      const reachesFailure =
        catchAll!.Next === 'Mark job failed' ||
        target?.Type === 'Fail' ||
        catchAll!.Next === 'Can it be resumed?';
      expect({ name, reachesFailure }).toEqual({ name, reachesFailure: true });
    }
  });

  it('marks the job failed, then announces the failure, then fails the execution', () => {
    expect(definition.States['Mark job failed']?.Next).toBe('Announce job failed');
    expect(definition.States['Announce job failed']?.Next).toBe('Can it be resumed?');
    expect(definition.States['Can it be resumed?']?.Default).toBe('Job failed');
    expect(definition.States['Job failed']?.Type).toBe('Fail');
  });

  it('stops a job failed for a curable reason at "Wait for a resume", which a redrive reruns', () => {
    const choice = JSON.stringify(definition.States['Can it be resumed?']);
    const codes = [...choice.matchAll(/"StringEquals":"([A-Z_]+)"/g)].map((m) => m[1]);
    // The same codes POST /jobs/{id}/resume accepts.
    expect(codes.sort()).toEqual([...resumableErrorCodes].sort());
    const wait = definition.States['Wait for a resume']!;
    // Not caught: its JobNotRunnable (the job is failed) fails the execution in this state.
    expect(wait.Catch).toBeUndefined();
    expect(JSON.stringify(wait.Resource)).toContain('MarkJobRunningLambdaFunction');
    expect(wait.Next).toBe('Resume from where?');
    expect(definition.States['Resume from where?']?.Default).toBe('Plan the shards');
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
    for (const name of batchStates) {
      const batchRetry = definition.States[name]?.Retry?.[0]?.ErrorEquals;
      expect(batchRetry).toEqual(
        expect.arrayContaining(['Batch.ServerException', 'Batch.AWSBatchException']),
      );
      expect(batchRetry).not.toContain('States.TaskFailed');
    }
  });

  it('gives every task a timeout, longer than its Lambda may run (ASL defaults to 60 seconds)', () => {
    const timeouts = tasks.map(([name, state]) => {
      const resource = state.Resource as { 'Fn::GetAtt'?: [string, string] } | string;
      const logicalId = typeof resource === 'object' ? resource['Fn::GetAtt']?.[0] : undefined;
      const fn = Object.values(config.functions).find(
        (f) => logicalId !== undefined && lambdaLogicalIdOf(f.name) === logicalId,
      );
      const lambdaTimeout = fn ? (fn.timeout ?? config.provider.timeout ?? 6) : 0;
      return { name, longer: ((state as { TimeoutSeconds?: number }).TimeoutSeconds ?? 0) > lambdaTimeout };
    });

    expect(timeouts).toEqual(tasks.map(([name]) => ({ name, longer: true })));
    for (const name of batchStates) {
      expect((definition.States[name] as { TimeoutSeconds?: number }).TimeoutSeconds).toBeGreaterThanOrEqual(
        24 * 3600,
      );
    }
  });

  it('keeps the state payload small: the Batch results are trimmed to their id and status', () => {
    for (const name of batchStates) {
      expect({ name, kept: Object.keys(definition.States[name]?.ResultSelector ?? {}) }).toEqual({
        name,
        kept: ['JobId.$', 'Status.$'],
      });
    }
  });

  it('names the Batch jobs as cancel looks them up: the state machine and batchJobNameOf agree', () => {
    const [prefix, suffix] = batchJobNameOf('{}').split('{}');
    for (const name of batchStates) {
      const parameters = definition.States[name]?.Parameters as Record<string, unknown> | undefined;
      expect({ name, jobName: parameters?.['JobName.$'] }).toEqual({
        name,
        jobName: `States.Format('${prefix}{}${suffix}', $.jobId)`,
      });
    }
  });

  it('names each task after its Lambda, its handler file and the use case it calls', () => {
    const taskFunctions = tasks
      .map(([, state]) => (state.Resource as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0])
      .filter((logicalId): logicalId is string => Boolean(logicalId));
    const byLogicalId = new Map(
      Object.entries(config.functions).map(([name, fn]) => [lambdaLogicalIdOf(name), { name, fn }]),
    );
    const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

    // "Mark job running" twice: also as "Wait for a resume".
    expect(new Set(taskFunctions).size).toBe(4);
    for (const logicalId of taskFunctions) {
      const { name, fn } = byLogicalId.get(logicalId)!;
      expect(fn.handler).toBe(`functions/${kebab(name)}.handler`);
      expect(existsSync(join(__dirname, '../../lib/use-cases/steps', `${kebab(name)}.ts`))).toBe(true);
    }
  });
});
