import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Template = { Resources: Record<string, Resource> };

const projectRoot = join(__dirname, '../..');
const packageDir = mkdtempSync(join(tmpdir(), 'longtail-package-'));
let template: Template;

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const resource = (logicalId: string) => {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`The template has no ${logicalId}`);
  return found.Properties as Record<string, unknown>;
};

beforeAll(() => {
  // The template the deployment would use: `serverless package`, offline, no credentials.
  execFileSync(
    join(projectRoot, 'node_modules/.bin/serverless'),
    ['package', '--stage', 'test', '--package', packageDir],
    {
      cwd: projectRoot,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
      stdio: 'pipe',
    },
  );
  template = JSON.parse(
    readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
}, 120_000);

afterAll(() => rmSync(packageDir, { recursive: true, force: true }));

describe('the packaged CloudFormation template', () => {
  it('has the jobs table on demand, keyed by job id, with the owner indexes the API queries', () => {
    const table = resource('JobsTable') as {
      BillingMode: string;
      KeySchema: { AttributeName: string }[];
      GlobalSecondaryIndexes: { IndexName: string }[];
      TimeToLiveSpecification: { AttributeName: string };
    };
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.KeySchema).toEqual([{ AttributeName: 'jobId', KeyType: 'HASH' }]);
    expect(table.GlobalSecondaryIndexes.map((i) => i.IndexName).sort()).toEqual(['byOwner', 'byOwnerStatus']);
    expect(table.TimeToLiveSpecification.AttributeName).toBe('expiresAt');
  });

  it('has the jobs queue with a dead-letter queue, and a visibility timeout six times the dispatch timeout', () => {
    const queue = resource('JobsQueue') as {
      VisibilityTimeout: number;
      RedrivePolicy: { deadLetterTargetArn: unknown; maxReceiveCount: number };
    };
    const dispatch = resource('DispatchLambdaFunction') as { Timeout: number };
    expect(queue.RedrivePolicy.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': ['JobsDeadLetterQueue', 'Arn'] });
    expect(queue.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(5);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * dispatch.Timeout);
    const mapping = ofType('AWS::Lambda::EventSourceMapping')[0]?.[1].Properties as {
      FunctionResponseTypes: string[];
    };
    expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('has the job-events topic and two private, encrypted buckets', () => {
    expect(template.Resources.JobEventsTopic?.Type).toBe('AWS::SNS::Topic');
    for (const bucket of ['InputsBucket', 'OutputsBucket']) {
      const props = resource(bucket) as {
        PublicAccessBlockConfiguration: Record<string, boolean>;
        BucketEncryption: unknown;
      };
      expect(props.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(props.BucketEncryption).toBeDefined();
    }
  });

  it('has the inference-job state machine, built from statemachines/ with the Batch .sync integration', () => {
    const machine = resource('InferenceJobStateMachine') as {
      DefinitionString: { 'Fn::Sub': [string, Record<string, unknown>] };
    };
    const [body, substitutions] = machine.DefinitionString['Fn::Sub'];
    expect(body).toContain('"Resource": "arn:aws:states:::batch:submitJob.sync"');
    expect(body).toContain('"StartAt": "Mark job running"');
    expect(Object.values(substitutions)).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': ['PrepareJobLambdaFunction', 'Arn'] },
        { Ref: 'GpuJobQueue' },
        { Ref: 'WorkerJobDefinition' },
        { Ref: 'JobEventsTopic' },
      ]),
    );
  });

  it('runs the worker on g4dn instances that scale from zero, one GPU per job', () => {
    const environments = ofType('AWS::Batch::ComputeEnvironment');
    expect(environments.length).toBeGreaterThan(0);
    for (const [, environment] of environments) {
      const compute = environment.Properties.ComputeResources as unknown as {
        MinvCpus: number;
        InstanceTypes: { 'Fn::Split': [string, string] };
      };
      expect(compute.MinvCpus).toBe(0);
      const instanceTypes = compute.InstanceTypes['Fn::Split'][1].split(',');
      expect(instanceTypes.every((type) => type.startsWith('g4dn.'))).toBe(true);
    }
    const queue = resource('GpuJobQueue') as { ComputeEnvironmentOrder: { ComputeEnvironment: unknown }[] };
    expect(queue.ComputeEnvironmentOrder[0]?.ComputeEnvironment).toEqual({ Ref: 'GpuComputeEnvironment' });
    const definition = resource('WorkerJobDefinition') as {
      ContainerProperties: { ResourceRequirements: { Type: string; Value: string }[] };
    };
    expect(definition.ContainerProperties.ResourceRequirements).toContainEqual({ Type: 'GPU', Value: '1' });
  });

  it('gives each function that touches AWS a role of its own', () => {
    const functions = ofType('AWS::Lambda::Function');
    const roles = functions.map(([, fn]) => JSON.stringify((fn.Properties as { Role: unknown }).Role));
    const withOwnRole = [
      'CreateJob',
      'GetJob',
      'ListJobs',
      'Dispatch',
      'PrepareJob',
      'FinalizeJob',
      'RecordFailure',
      'Authorizer',
    ];
    for (const name of withOwnRole) {
      expect(roles).toContain(JSON.stringify({ 'Fn::GetAtt': [`${name}IamRoleLambdaExecution`, 'Arn'] }));
    }
    expect(new Set(roles).size).toBeGreaterThanOrEqual(withOwnRole.length);
  });

  it('deploys functions on Node.js 22', () => {
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      expect((fn.Properties as { Runtime: string }).Runtime).toBe('nodejs22.x');
    }
  });
});
