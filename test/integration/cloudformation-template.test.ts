import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { modelCacheSettings } from '../../gpu-container/src/model-cache-settings';
import { shouldRetry } from '../../local/batch';
import { filesInZip } from '../support/zip-files';

type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};
type Template = {
  Resources: Record<string, Resource>;
  Parameters?: Record<string, { Type: string; Default?: string }>;
  Outputs?: Record<string, { Value: unknown }>;
};

const projectRoot = join(__dirname, '../..');
/** Deployment parameters given on the command line, to see them reach the template. */
const deploymentParams = {
  subnetIds: 'subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb',
  securityGroupIds: 'sg-0cccccccccccccccc',
};
/**
 * GPU instance families the worker image runs on: their GPUs (T4 sm_75, A10G sm_86, L4 sm_89) are
 * in the CUDA 13 ONNX Runtime build's architecture list, and ECS_AL2023_NVIDIA (driver 580) runs them.
 */
const imageGpuTypes = /^(g4dn|g5|g6)\.([0-9]+)?xlarge$/;
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
    [
      'package',
      '--stage',
      'test',
      '--package',
      packageDir,
      ...Object.entries(deploymentParams).map(([name, value]) => `--param=${name}=${value}`),
    ],
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
  it('has the jobs table on demand, keyed by job id, with the owner indexes the API queries, the shard index and the sweeper’s', () => {
    const table = resource('JobsTable') as {
      BillingMode: string;
      KeySchema: { AttributeName: string }[];
      AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
      GlobalSecondaryIndexes: {
        IndexName: string;
        KeySchema: { AttributeName: string; KeyType: string }[];
      }[];
      TimeToLiveSpecification: { AttributeName: string };
    };
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.KeySchema).toEqual([{ AttributeName: 'jobId', KeyType: 'HASH' }]);
    expect(table.GlobalSecondaryIndexes.map((i) => i.IndexName).sort()).toEqual([
      'byActiveStatus',
      'byOwner',
      'byOwnerStatus',
      'byShardOf',
    ]);
    expect(table.TimeToLiveSpecification.AttributeName).toBe('expiresAt');
  });

  it('indexes shard progress rows by the job they belong to, in shard order', () => {
    const table = resource('JobsTable') as {
      AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
      GlobalSecondaryIndexes: {
        IndexName: string;
        KeySchema: { AttributeName: string; KeyType: string }[];
        Projection: { ProjectionType: string };
      }[];
    };
    const index = table.GlobalSecondaryIndexes.find((i) => i.IndexName === 'byShardOf');

    expect(index?.KeySchema).toEqual([
      { AttributeName: 'shardOf', KeyType: 'HASH' },
      { AttributeName: 'shardIndex', KeyType: 'RANGE' },
    ]);
    // The shard rows are read whole: counts, status and error.
    expect(index?.Projection).toEqual({ ProjectionType: 'ALL' });
    expect(table.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'shardOf', AttributeType: 'S' },
        { AttributeName: 'shardIndex', AttributeType: 'N' },
      ]),
    );
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
    expect(body).toContain('"Size.$": "$.plan.shardCount"');
    expect(Object.values(substitutions)).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': ['MarkJobRunningLambdaFunction', 'Arn'] },
        { 'Fn::GetAtt': ['PlanShardsLambdaFunction', 'Arn'] },
        { Ref: 'GpuJobQueue' },
        { Ref: 'WorkerJobDefinition' },
        { Ref: 'JobEventsTopic' },
      ]),
    );
  });

  it('runs the worker on GPU instances the image supports, scaling from zero, one GPU per job', () => {
    const environments = ofType('AWS::Batch::ComputeEnvironment');
    expect(environments.length).toBeGreaterThan(0);
    for (const [, environment] of environments) {
      const compute = environment.Properties.ComputeResources as unknown as {
        MinvCpus: number;
        InstanceTypes: { 'Fn::Split': [string, string] };
      };
      expect(compute.MinvCpus).toBe(0);
      const instanceTypes = compute.InstanceTypes['Fn::Split'][1].split(',');
      expect(instanceTypes.every((type) => imageGpuTypes.test(type))).toBe(true);
    }
    const queue = resource('GpuJobQueue') as { ComputeEnvironmentOrder: { ComputeEnvironment: unknown }[] };
    expect(queue.ComputeEnvironmentOrder[0]?.ComputeEnvironment).toEqual({
      Ref: 'GpuSpotComputeEnvironment',
    });
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
      'MarkJobRunning',
      'PlanShards',
      'CompleteJob',
      'MarkJobFailed',
      'Authorizer',
      'S3Drop',
      'RetryFailed',
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

// ---------------------------------------------------------------------------------------------
// Helpers for reading the template: CloudFormation lets most fields be one value or a list, and
// names other resources through Ref, Fn::GetAtt and Fn::Sub.

type Json = unknown;
type Props = Record<string, Json>;

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: Json;
  NotResource?: Json;
  Principal?: Json;
  Condition?: Record<string, Record<string, Json>>;
}

interface FoundStatement {
  /** The logical id of the resource that holds the statement. */
  owner: string;
  /** The property the policy document sits in, e.g. `AssumeRolePolicyDocument`. */
  document: string;
  statement: Statement;
}

const listOf = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

const isObject = (value: Json): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const propsOf = (logicalId: string) => resource(logicalId) as Props;

/** The logical id a `Ref` or `Fn::GetAtt` names (`undefined` for anything else). */
const targetOf = (value: Json): string | undefined => {
  if (!isObject(value)) return undefined;
  if (typeof value.Ref === 'string') return value.Ref;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
};

/**
 * An ARN-ish value as one string, with references kept by name: `Fn::Join` joined,
 * `{ Ref: X }` → `${X}`, `{ Fn::GetAtt: [X, A] }` → `${X.A}`, `Fn::Sub` with its variables put in.
 */
const flatten = (value: Json): string => {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (!isObject(value)) return JSON.stringify(value);
  if (typeof value.Ref === 'string') return `\${${value.Ref}}`;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `\${${getAtt.join('.')}}`;
  const join = value['Fn::Join'];
  if (Array.isArray(join)) {
    const [separator, parts] = join as [string, Json[]];
    return parts.map(flatten).join(separator);
  }
  const sub = value['Fn::Sub'];
  if (typeof sub === 'string') return sub;
  if (Array.isArray(sub)) {
    const [body, variables] = sub as [string, Record<string, Json>];
    return body.replace(/\$\{([^}]+)\}/g, (whole, name: string) =>
      name in variables ? flatten(variables[name]) : whole,
    );
  }
  return JSON.stringify(value);
};

/** Every policy statement in the template: role policies, managed policies, bucket and queue policies, trust policies. */
const policyStatements = (): FoundStatement[] => {
  const found: FoundStatement[] = [];
  const walk = (value: Json, owner: string) => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, owner);
      return;
    }
    if (!isObject(value)) return;
    for (const [key, child] of Object.entries(value)) {
      if (/PolicyDocument$/.test(key) && isObject(child) && 'Statement' in child) {
        for (const statement of listOf(child.Statement as Statement | Statement[])) {
          found.push({ owner, document: key, statement });
        }
      } else {
        walk(child, owner);
      }
    }
  };
  for (const [logicalId, r] of Object.entries(template.Resources)) walk(r.Properties, logicalId);
  return found;
};

const allowStatementsOf = (roleId: string): Statement[] =>
  policyStatements()
    .filter((s) => s.owner === roleId && s.document === 'PolicyDocument' && s.statement.Effect === 'Allow')
    .map((s) => s.statement);

/** Action → the resources a role allows it on (flattened, sorted). */
const grantsOf = (roleId: string): Record<string, string[]> => {
  const grants: Record<string, string[]> = {};
  for (const statement of allowStatementsOf(roleId)) {
    for (const action of listOf(statement.Action)) {
      grants[action] = [...(grants[action] ?? []), ...listOf(statement.Resource).map(flatten)].sort();
    }
  }
  return grants;
};

const trustedServicesOf = (roleId: string): string[] =>
  policyStatements()
    .filter((s) => s.owner === roleId && s.document === 'AssumeRolePolicyDocument')
    .flatMap((s) => {
      const principal = s.statement.Principal;
      return isObject(principal) ? listOf(principal.Service as Json).map(flatten) : [];
    })
    .sort();

const computeResourcesOf = (props: Props) =>
  props.ComputeResources as {
    Type: string;
    AllocationStrategy?: string;
    MinvCpus: number;
    MaxvCpus: number | string;
    InstanceTypes: { 'Fn::Split': [string, string] };
    InstanceRole: Json;
    Subnets: { 'Fn::Split': [string, string] };
    SecurityGroupIds: { 'Fn::Split': [string, string] };
    Ec2Configuration?: { ImageType: string }[];
  };

interface RetryRule {
  Action: string;
  OnExitCode?: string;
  OnReason?: string;
  OnStatusReason?: string;
}

interface JobDefinition {
  ContainerProperties: {
    Image: Json;
    JobRoleArn: Json;
    ExecutionRoleArn: Json;
    ResourceRequirements: { Type: string; Value: string }[];
    LogConfiguration: { LogDriver: string; Options: Record<string, Json> };
  };
  Timeout?: { AttemptDurationSeconds: number };
  RetryStrategy?: { Attempts: number; EvaluateOnExit?: RetryRule[] };
}

interface Alarm {
  Namespace: string;
  MetricName: string;
  Dimensions?: { Name: string; Value: Json }[];
  AlarmActions?: Json[];
}

const alarms = () =>
  ofType('AWS::CloudWatch::Alarm').map(([id, r]) => ({ id, ...(r.Properties as unknown as Alarm) }));
const alarmOn = (namespace: string, metricName: string) =>
  alarms().find((alarm) => alarm.Namespace === namespace && alarm.MetricName === metricName);
const dimensionsOf = (alarm: Alarm | undefined) =>
  Object.fromEntries((alarm?.Dimensions ?? []).map((d) => [d.Name, d.Value]));

/** The function an SQS event source mapping on JobsQueue invokes: the dispatcher. */
const jobsQueueMapping = () =>
  ofType('AWS::Lambda::EventSourceMapping')
    .map(([, r]) => r.Properties as Props)
    .find((props) => targetOf(props.EventSourceArn) === 'JobsQueue') as
    | {
        FunctionName: Json;
        FunctionResponseTypes?: string[];
        ScalingConfig?: { MaximumConcurrency?: number };
      }
    | undefined;

// The task functions the state machine invokes, and nothing else.
const taskFunctions = [
  'CompleteJobLambdaFunction',
  'PlanShardsLambdaFunction',
  'MarkJobRunningLambdaFunction',
  'MarkJobFailedLambdaFunction',
];

describe('the GPU compute of the packaged template', () => {
  const environments = () =>
    ofType('AWS::Batch::ComputeEnvironment').map(([id, r]) => ({
      id,
      props: r.Properties as Props,
      compute: computeResourcesOf(r.Properties as Props),
    }));
  const jobDefinition = () => resource('WorkerJobDefinition') as unknown as JobDefinition;

  it('has a Spot environment placed by price and capacity, and an on-demand one to fall back on', () => {
    const spot = environments().filter((e) => e.compute.Type === 'SPOT');
    const onDemand = environments().filter((e) => e.compute.Type === 'EC2');

    expect(spot.map((e) => e.compute.AllocationStrategy)).toContain('SPOT_PRICE_CAPACITY_OPTIMIZED');
    expect(onDemand.length).toBeGreaterThanOrEqual(1);
  });

  it('makes every environment managed, scaled from zero to a set maximum, on GPU instances with the ECS GPU AMI', () => {
    const vcpusPerJob = Number(
      jobDefinition().ContainerProperties.ResourceRequirements.find((r) => r.Type === 'VCPU')?.Value,
    );

    expect(environments().length).toBeGreaterThanOrEqual(2);
    for (const { id, props, compute } of environments()) {
      const [separator, instanceTypes] = compute.InstanceTypes['Fn::Split'];
      expect({ id, type: props.Type, minvCpus: compute.MinvCpus }).toEqual({
        id,
        type: 'MANAGED',
        minvCpus: 0,
      });
      // A job must fit: the maximum is at least what one job asks for.
      expect(Number(compute.MaxvCpus)).toBeGreaterThanOrEqual(vcpusPerJob);
      expect(separator).toBe(',');
      expect(instanceTypes.split(',').every((type) => imageGpuTypes.test(type))).toBe(true);
      expect(compute.Ec2Configuration?.length).toBeGreaterThanOrEqual(1);
      expect(compute.Ec2Configuration?.map((c) => c.ImageType)).toEqual(
        compute.Ec2Configuration?.map(() => 'ECS_AL2023_NVIDIA'),
      );
    }
  });

  it('mounts a host folder as the model cache, created for the worker’s user on a root volume sized for it', () => {
    const container = jobDefinition().ContainerProperties as unknown as {
      Environment: { Name: string; Value: Json }[];
      Volumes?: { Name: string; Host?: { SourcePath?: string } }[];
      MountPoints?: { SourceVolume: string; ContainerPath: string; ReadOnly?: boolean }[];
    };
    const cacheDir = container.Environment.find((e) => e.Name === 'LONGTAIL_MODEL_CACHE_DIR')?.Value;
    const mount = container.MountPoints?.find((m) => m.ContainerPath === cacheDir);
    const hostPath = container.Volumes?.find((v) => v.Name === mount?.SourceVolume)?.Host?.SourcePath;
    const workerUid = /^USER (\d+)/m.exec(
      readFileSync(join(projectRoot, 'gpu-container/Dockerfile'), 'utf8'),
    )?.[1];
    const defaultCapGiB = modelCacheSettings({}).maxBytes / 2 ** 30;

    expect(cacheDir).toBe(modelCacheSettings({}).dir);
    expect(mount?.ReadOnly ?? false).toBe(false);
    // A host path, not a Docker volume: it outlives the container, for the next job on the instance.
    expect(hostPath).toMatch(/^\/[^$]+$/);
    for (const { id, compute } of environments()) {
      const { LaunchTemplate } = compute as unknown as {
        LaunchTemplate?: { LaunchTemplateId: Json; Version: Json };
      };
      const data = propsOf(targetOf(LaunchTemplate?.LaunchTemplateId) ?? '').LaunchTemplateData as {
        BlockDeviceMappings: { DeviceName: string; Ebs: { VolumeSize: number } }[];
        UserData: { 'Fn::Base64': string };
      };
      const root = data.BlockDeviceMappings.find((m) => m.DeviceName === '/dev/xvda');
      const userData = data.UserData['Fn::Base64'];

      // Follows changes to the launch template: a fixed `$Default` would not update the environment.
      expect({ id, version: LaunchTemplate?.Version }).toEqual({
        id,
        version: { 'Fn::GetAtt': [targetOf(LaunchTemplate?.LaunchTemplateId), 'LatestVersionNumber'] },
      });
      // The AMI's own 30 GiB hold the OS and the worker image; the cache comes on top.
      expect(root?.Ebs.VolumeSize).toBeGreaterThanOrEqual(30 + defaultCapGiB);
      // Batch only merges MIME multi-part user data with its own.
      expect(userData).toMatch(/^Content-Type: multipart\/mixed; boundary="([^"]+)"$/m);
      expect(userData).toContain(`mkdir -p ${hostPath}\n`);
      expect(userData).toContain(`chown ${workerUid}:${workerUid} ${hostPath}\n`);
    }
  });

  it('launches instances into the subnets and security groups given as deployment parameters', () => {
    for (const { compute } of environments()) {
      expect(compute.Subnets).toEqual({ 'Fn::Split': [',', deploymentParams.subnetIds] });
      expect(compute.SecurityGroupIds).toEqual({ 'Fn::Split': [',', deploymentParams.securityGroupIds] });
    }
  });

  it('queues jobs on Spot first, then on demand, and cancels jobs that can never leave RUNNABLE', () => {
    const queue = resource('GpuJobQueue') as {
      ComputeEnvironmentOrder: { Order: number; ComputeEnvironment: Json }[];
      JobStateTimeLimitActions?: { State: string; Action: string; MaxTimeSeconds: number }[];
    };
    const ordered = [...queue.ComputeEnvironmentOrder].sort((a, b) => a.Order - b.Order);
    const typeOf = (ref: Json) => computeResourcesOf(propsOf(targetOf(ref) ?? '')).Type;

    expect(ordered.map((o) => Object.keys(o.ComputeEnvironment as object))).toEqual(
      ordered.map(() => ['Ref']),
    );
    expect(ordered.map((o) => targetOf(o.ComputeEnvironment)).sort()).toEqual(
      environments()
        .map((e) => e.id)
        .sort(),
    );
    expect(ordered.map((o) => typeOf(o.ComputeEnvironment))).toEqual(['SPOT', 'EC2']);
    const runnableLimits = (queue.JobStateTimeLimitActions ?? []).filter((a) => a.State === 'RUNNABLE');
    expect(runnableLimits.length).toBeGreaterThanOrEqual(1);
    for (const limit of runnableLimits) {
      expect(limit.Action).toBe('CANCEL');
      expect(limit.MaxTimeSeconds).toBeGreaterThanOrEqual(600);
    }
  });

  it('asks for one GPU, some vCPUs and memory per job, with a time limit and logs in a log group of the stack', () => {
    const { ContainerProperties: container, Timeout: timeout } = jobDefinition();
    const requirements = Object.fromEntries(container.ResourceRequirements.map((r) => [r.Type, r.Value]));

    expect(requirements.GPU).toBe('1');
    expect(Number(requirements.VCPU)).toBeGreaterThan(0);
    expect(Number(requirements.MEMORY)).toBeGreaterThan(0);
    expect(timeout?.AttemptDurationSeconds).toBeGreaterThanOrEqual(60);
    expect(container.LogConfiguration.LogDriver).toBe('awslogs');
    const group = container.LogConfiguration.Options['awslogs-group'];
    expect(group).toEqual({ Ref: expect.any(String) });
    expect(template.Resources[targetOf(group) ?? '']?.Type).toBe('AWS::Logs::LogGroup');
  });

  it('retries lost hosts and signals, and ends at once on out-of-memory, image pulls, exit 1 and anything else', () => {
    const retry = jobDefinition().RetryStrategy;
    const rules = retry?.EvaluateOnExit ?? [];
    const last = rules[rules.length - 1];
    // What Batch reports for each case: exit code, the container's reason, the status reason.
    const outcome = (
      exitCode: number | null,
      reason = '',
      statusReason = 'Essential container in task exited',
    ) => ({
      exitCode,
      reason,
      statusReason,
    });
    const retried = (o: ReturnType<typeof outcome>) =>
      shouldRetry(rules as Parameters<typeof shouldRetry>[0], o);

    expect(retry?.Attempts).toBeGreaterThan(1);
    // Batch accepts at most five rules, and retries what none matches: the last one must end.
    expect(rules.length).toBeLessThanOrEqual(5);
    expect(last?.Action.toUpperCase()).toBe('EXIT');
    expect([last?.OnReason, last?.OnStatusReason, last?.OnExitCode]).toContain('*');
    // A reclaimed Spot host is retried whatever the exit code; so is a worker stopped by a signal.
    expect(retried(outcome(null, '', 'Host EC2 (instance i-0abc123) terminated.'))).toBe(true);
    expect(retried(outcome(137, '', 'Host EC2 (instance i-0abc123) terminated.'))).toBe(true);
    expect(retried(outcome(137))).toBe(true);
    expect(retried(outcome(143))).toBe(true);
    // Killed for its memory (also exit 137): the next attempt would be killed the same way.
    expect(retried(outcome(137, 'OutOfMemoryError: Container killed due to memory usage'))).toBe(false);
    // An image that cannot be pulled: no exit code, and no attempt would fare better.
    expect(
      retried(
        outcome(
          null,
          'CannotPullContainerError: pull image manifest has been retried 5 time(s): not found',
          'Task failed to start',
        ),
      ),
    ).toBe(false);
    // The worker says the job cannot succeed.
    expect(retried(outcome(1))).toBe(false);
    expect(retried(outcome(2))).toBe(false);
  });

  it('runs the container under a job role apart from the execution role, with its image in the stack’s ECR repository', () => {
    const { ContainerProperties: container } = jobDefinition();
    const repositories = ofType('AWS::ECR::Repository').map(([id]) => id);

    expect(container.JobRoleArn).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    expect(container.ExecutionRoleArn).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    expect(targetOf(container.JobRoleArn)).not.toBe(targetOf(container.ExecutionRoleArn));
    expect(repositories.length).toBeGreaterThanOrEqual(1);
    expect(repositories.some((id) => flatten(container.Image).includes(`\${${id}}`))).toBe(true);
  });
});

describe('the permissions in the packaged template', () => {
  const resourceStarAllowList = [
    'batch:DescribeComputeEnvironments',
    'batch:DescribeJobQueues',
    'batch:DescribeJobs',
    'batch:ListJobs',
    'batch:SubmitJob',
    'batch:TerminateJob',
  ];

  it('finds the statements it checks: role policies, trust policies and bucket policies', () => {
    const owners = new Set(policyStatements().map((s) => s.owner));

    for (const owner of [
      'InferenceJobStateMachineRole',
      'WorkerJobRole',
      'DispatchIamRoleLambdaExecution',
      'InputsBucketPolicy',
      'ServerlessDeploymentBucketPolicy',
    ]) {
      expect(owners).toContain(owner);
    }
  });

  it('gives every Lambda function a role of its own, which only Lambda may assume', () => {
    const functions = ofType('AWS::Lambda::Function');
    const roles = functions.map(([id, fn]) => ({ id, role: (fn.Properties as { Role: Json }).Role }));

    expect(functions.length).toBeGreaterThanOrEqual(12);
    for (const { id, role } of roles) {
      const name = id.replace(/LambdaFunction$/, '');
      expect({ id, role }).toEqual({ id, role: { 'Fn::GetAtt': [`${name}IamRoleLambdaExecution`, 'Arn'] } });
      expect(trustedServicesOf(`${name}IamRoleLambdaExecution`)).toEqual(['lambda.amazonaws.com']);
    }
    expect(new Set(roles.map(({ role }) => targetOf(role))).size).toBe(functions.length);
  });

  it('allows no wildcard action and no NotAction or NotResource anywhere', () => {
    const allowed = policyStatements().filter((s) => s.statement.Effect === 'Allow');
    const wildcards = allowed.flatMap(({ owner, statement }) =>
      listOf(statement.Action)
        .filter((action) => action.includes('*'))
        .map((action) => `${owner}: ${action}`),
    );
    const negations = allowed
      .filter(({ statement }) => statement.NotAction !== undefined || statement.NotResource !== undefined)
      .map(({ owner }) => owner);

    expect(allowed.length).toBeGreaterThan(20);
    expect(wildcards).toEqual([]);
    expect(negations).toEqual([]);
  });

  it("allows Resource '*' only for the Batch actions that have no narrower resource", () => {
    const onEverything = policyStatements()
      .filter(({ statement }) => statement.Effect === 'Allow' && listOf(statement.Resource).includes('*'))
      .flatMap(({ owner, statement }) => listOf(statement.Action).map((action) => ({ owner, action })));

    expect([...new Set(onEverything.map((g) => g.action))].sort()).toEqual(resourceStarAllowList);
    // ...and only where they are used: the state machine's .sync integration, cancel, the RUNNABLE
    // monitor, the cost of a job as it ends (or is cancelled), and the console's queues and logs.
    expect(onEverything.map((g) => `${g.owner}: ${g.action}`).sort()).toEqual([
      'CancelJobIamRoleLambdaExecution: batch:DescribeJobs',
      'CancelJobIamRoleLambdaExecution: batch:ListJobs',
      'CompleteJobIamRoleLambdaExecution: batch:DescribeJobs',
      'CompleteJobIamRoleLambdaExecution: batch:ListJobs',
      'InferenceJobStateMachineRole: batch:DescribeJobs',
      'InferenceJobStateMachineRole: batch:SubmitJob',
      'InferenceJobStateMachineRole: batch:TerminateJob',
      'MarkJobFailedIamRoleLambdaExecution: batch:DescribeJobs',
      'MarkJobFailedIamRoleLambdaExecution: batch:ListJobs',
      'MonitorBatchQueueIamRoleLambdaExecution: batch:DescribeJobs',
      'MonitorBatchQueueIamRoleLambdaExecution: batch:ListJobs',
      'OperatorApiIamRoleLambdaExecution: batch:DescribeComputeEnvironments',
      'OperatorApiIamRoleLambdaExecution: batch:DescribeJobQueues',
      'OperatorApiIamRoleLambdaExecution: batch:DescribeJobs',
      'OperatorApiIamRoleLambdaExecution: batch:ListJobs',
    ]);
  });

  it('attaches no managed policy beyond the ECS ones AWS provides for container instances and task execution', () => {
    const managed = ofType('AWS::IAM::Role')
      .filter(([, r]) => listOf((r.Properties as Props).ManagedPolicyArns as Json[]).length > 0)
      .map(([id, r]) => [id, listOf((r.Properties as Props).ManagedPolicyArns as Json[]).map(flatten)]);

    expect(Object.fromEntries(managed)).toEqual({
      BatchInstanceRole: ['arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role'],
      WorkerExecutionRole: ['arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy'],
    });
    expect(ofType('AWS::IAM::Policy').length + ofType('AWS::IAM::ManagedPolicy').length).toBe(0);
  });

  it('lets the state machine invoke only its four task functions, publish only to job-events and manage only its Batch events rule', () => {
    const roleId = targetOf(propsOf('InferenceJobStateMachine').RoleArn) ?? '';
    const grants = grantsOf(roleId);

    expect(roleId).toBe('InferenceJobStateMachineRole');
    expect(Object.keys(grants).sort()).toEqual([
      'batch:DescribeJobs',
      'batch:SubmitJob',
      'batch:TerminateJob',
      'events:DescribeRule',
      'events:PutRule',
      'events:PutTargets',
      'lambda:InvokeFunction',
      'sns:Publish',
    ]);
    // Each function, and its versions and aliases (`<arn>:*`), and nothing else.
    expect(grants['lambda:InvokeFunction']).toEqual(
      taskFunctions.flatMap((fn) => [`\${${fn}.Arn}`, `\${${fn}.Arn}:*`]).sort(),
    );
    expect(grants['sns:Publish']).toEqual(['${JobEventsTopic}']);
    for (const action of Object.keys(grants).filter((a) => a.startsWith('events:'))) {
      expect(grants[action]).toEqual([
        'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForBatchJobsRule',
      ]);
    }
  });

  it('lets the worker only read and list inputs, read its plan, write work/ of the outputs bucket, put shard rows, and check model versions', () => {
    const { JobRoleArn } = (resource('WorkerJobDefinition') as unknown as JobDefinition).ContainerProperties;
    const roleId = targetOf(JobRoleArn) ?? '';

    expect(roleId).toBe('WorkerJobRole');
    expect(grantsOf(roleId)).toEqual({
      's3:GetObject': [
        '${InputsBucket.Arn}/*',
        '${ModelsBucket.Arn}/*',
        '${OutputsBucket.Arn}/work/*/plan.json',
      ],
      // A vanished input must be a 404 (INPUT_NOT_FOUND), which S3 answers only with ListBucket.
      's3:ListBucket': ['${InputsBucket.Arn}'],
      's3:PutObject': ['${OutputsBucket.Arn}/work/*'],
      's3:AbortMultipartUpload': ['${OutputsBucket.Arn}/work/*'],
      'dynamodb:PutItem': ['${JobsTable.Arn}', '${ModelsTable.Arn}'],
      // A model check reads the version; a shard reads its own row first (a resumed job's
      // succeeded shard is not run again).
      'dynamodb:GetItem': ['${JobsTable.Arn}', '${ModelsTable.Arn}'],
      'dynamodb:UpdateItem': ['${ModelsTable.Arn}'],
    });
    expect((propsOf(roleId).ManagedPolicyArns as Json[] | undefined) ?? []).toEqual([]);
  });

  it('lets POST /jobs/{id}/resume read and reopen job records and redrive only the inference executions', () => {
    const grants = Object.fromEntries(
      Object.entries(grantsOf('ResumeJobIamRoleLambdaExecution')).filter(
        ([action]) => !action.startsWith('logs:'),
      ),
    );

    expect(grants).toEqual({
      'dynamodb:GetItem': ['${JobsTable.Arn}'],
      'dynamodb:UpdateItem': ['${JobsTable.Arn}'],
      'states:RedriveExecution': [
        'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:longtail-test-inference-job:*',
      ],
    });
  });

  it('lets the worker put only shard progress rows, never a job record', () => {
    const puts = allowStatementsOf('WorkerJobRole').filter(
      (s) =>
        listOf(s.Action).includes('dynamodb:PutItem') && JSON.stringify(s.Resource).includes('JobsTable'),
    );

    expect(puts).toHaveLength(1);
    expect(listOf(puts[0]?.Action)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(puts[0]?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['*#shard#*'] },
    });
  });

  it('lets the console read only the worker log group’s streams, the group the job definition logs to', () => {
    const operatorApi = propsOf('OperatorApiLambdaFunction') as {
      Environment: { Variables: Record<string, Json> };
    };
    const { LogConfiguration } = propsOf('WorkerJobDefinition').ContainerProperties as unknown as {
      LogConfiguration: { LogDriver: string; Options: Record<string, Json> };
    };

    expect(LogConfiguration.LogDriver).toBe('awslogs');
    expect(operatorApi.Environment.Variables.WORKER_LOG_GROUP).toEqual(
      LogConfiguration.Options['awslogs-group'],
    );
    expect(grantsOf('OperatorApiIamRoleLambdaExecution')).toMatchObject({
      'logs:GetLogEvents': [
        `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:\${WorkerLogGroup}:log-stream:${String(LogConfiguration.Options['awslogs-stream-prefix'])}/*`,
      ],
      'batch:DescribeJobs': ['*'],
    });
  });

  it('gives the new functions only what they use, besides their logs', () => {
    const grantsBesidesLogs = (roleId: string) =>
      Object.fromEntries(Object.entries(grantsOf(roleId)).filter(([action]) => !action.startsWith('logs:')));

    expect(grantsBesidesLogs('PlanShardsIamRoleLambdaExecution')).toEqual({
      'dynamodb:GetItem': ['${JobsTable.Arn}', '${ModelsTable.Arn}'],
      'dynamodb:UpdateItem': ['${JobsTable.Arn}'],
      's3:GetObject': ['${InputsBucket.Arn}/*'],
      's3:ListBucket': ['${InputsBucket.Arn}'],
      's3:PutObject': ['${OutputsBucket.Arn}/work/*'],
    });
    expect(grantsOf('RetryFailedIamRoleLambdaExecution')).toMatchObject({
      's3:PutObject': ['${InputsBucket.Arn}/retries/*'],
      's3:AbortMultipartUpload': ['${InputsBucket.Arn}/retries/*'],
    });
    expect(grantsOf('S3DropIamRoleLambdaExecution')).toMatchObject({
      's3:GetObject': ['arn:${AWS::Partition}:s3:::${AWS::StackName}-inputs-${AWS::AccountId}/drop/*'],
      'sns:Publish': ['${JobEventsTopic}'],
    });
    // Its only write to S3: a batch of images' manifest, under a prefix callers may not submit.
    expect(grantsOf('S3DropIamRoleLambdaExecution')['s3:PutObject']).toEqual([
      'arn:${AWS::Partition}:s3:::${AWS::StackName}-inputs-${AWS::AccountId}/drop-manifests/*',
    ]);
    expect(grantsBesidesLogs('GetJobIamRoleLambdaExecution')).toEqual({
      'dynamodb:GetItem': ['${JobsTable.Arn}'],
      'dynamodb:Query': ['${JobsTable.Arn}/index/byShardOf'],
    });
  });

  it('lets only ECS tasks assume the job and execution roles, and only EC2 the instance role behind the instance profile', () => {
    const container = (resource('WorkerJobDefinition') as unknown as JobDefinition).ContainerProperties;
    const instanceProfiles = ofType('AWS::Batch::ComputeEnvironment').map(([, r]) =>
      targetOf(computeResourcesOf(r.Properties as Props).InstanceRole),
    );

    expect(trustedServicesOf(targetOf(container.JobRoleArn) ?? '')).toEqual(['ecs-tasks.amazonaws.com']);
    expect(trustedServicesOf(targetOf(container.ExecutionRoleArn) ?? '')).toEqual([
      'ecs-tasks.amazonaws.com',
    ]);
    expect(instanceProfiles.length).toBeGreaterThan(0);
    for (const profileId of instanceProfiles) {
      expect(template.Resources[profileId ?? '']?.Type).toBe('AWS::IAM::InstanceProfile');
      const roles = (propsOf(profileId ?? '').Roles as Json[]).map(targetOf);
      expect(roles).toHaveLength(1);
      expect(trustedServicesOf(roles[0] ?? '')).toEqual(['ec2.amazonaws.com']);
    }
  });
});

describe('the storage in the packaged template', () => {
  interface Bucket {
    PublicAccessBlockConfiguration?: Record<string, boolean>;
    BucketEncryption?: {
      ServerSideEncryptionConfiguration: { ServerSideEncryptionByDefault: { SSEAlgorithm: string } }[];
    };
    OwnershipControls?: { Rules: { ObjectOwnership: string }[] };
    LifecycleConfiguration?: {
      Rules: {
        Status: string;
        Prefix?: string;
        Filter?: { Prefix?: string };
        ExpirationInDays?: number;
        AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
      }[];
    };
  }
  const buckets = () => ofType('AWS::S3::Bucket').map(([id, r]) => ({ id, bucket: r.Properties as Bucket }));

  it('includes the deployment bucket among the buckets it checks', () => {
    expect(buckets().map((b) => b.id)).toEqual(
      expect.arrayContaining(['ServerlessDeploymentBucket', 'InputsBucket', 'OutputsBucket']),
    );
  });

  it('blocks all public access, encrypts, and enforces bucket ownership on every bucket', () => {
    for (const { id, bucket } of buckets()) {
      expect({ id, block: bucket.PublicAccessBlockConfiguration }).toEqual({
        id,
        block: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      });
      expect({
        id,
        algorithm:
          bucket.BucketEncryption?.ServerSideEncryptionConfiguration[0]?.ServerSideEncryptionByDefault
            .SSEAlgorithm,
      }).toEqual({ id, algorithm: expect.stringMatching(/^(AES256|aws:kms|aws:kms:dsse)$/) });
      expect({ id, ownership: bucket.OwnershipControls?.Rules }).toEqual({
        id,
        ownership: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
      });
    }
  });

  it('aborts incomplete multipart uploads in every bucket', () => {
    for (const { id, bucket } of buckets()) {
      const abort = (bucket.LifecycleConfiguration?.Rules ?? []).find(
        (rule) => rule.Status === 'Enabled' && rule.AbortIncompleteMultipartUpload !== undefined,
      );
      expect({ id, days: abort?.AbortIncompleteMultipartUpload?.DaysAfterInitiation }).toEqual({
        id,
        days: expect.any(Number),
      });
    }
  });

  it('expires the intermediate work/ objects of the outputs bucket', () => {
    const rules = (resource('OutputsBucket') as Bucket).LifecycleConfiguration?.Rules ?? [];
    const work = rules.find(
      (rule) => rule.Status === 'Enabled' && (rule.Prefix ?? rule.Filter?.Prefix) === 'work/',
    );

    expect(work?.ExpirationInDays).toBeGreaterThan(0);
  });

  it('denies requests without TLS on every bucket and its objects', () => {
    // Created unconditionally: a policy behind a CloudFormation Condition may not exist.
    const policies = ofType('AWS::S3::BucketPolicy')
      .filter(
        ([policyId]) => (template.Resources[policyId] as { Condition?: string }).Condition === undefined,
      )
      .map(([, r]) => r.Properties as Props);

    for (const { id } of buckets()) {
      const policy = policies.find((p) => targetOf(p.Bucket) === id);
      const statements = listOf(
        (policy?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement,
      );
      const denyInsecure = statements.find(
        (s) =>
          s.Effect === 'Deny' &&
          ['false', false].includes(s.Condition?.Bool?.['aws:SecureTransport'] as string | boolean) &&
          listOf(s.Action).includes('s3:*') &&
          (s.Principal === '*' || (isObject(s.Principal) && s.Principal.AWS === '*')),
      );
      const resources = listOf(denyInsecure?.Resource).map(flatten);
      expect({ id, denies: denyInsecure !== undefined }).toEqual({ id, denies: true });
      expect({ id, objects: resources.some((r) => r.endsWith('/*')) }).toEqual({ id, objects: true });
      expect({ id, bucket: resources.some((r) => !r.endsWith('/*')) }).toEqual({ id, bucket: true });
    }
  });

  it('bills the tables on demand, with point-in-time recovery, and expires job records', () => {
    const tables = ofType('AWS::DynamoDB::Table');

    expect(tables.length).toBeGreaterThanOrEqual(1);
    for (const [id, table] of tables) {
      const props = table.Properties as {
        BillingMode?: string;
        PointInTimeRecoverySpecification?: { PointInTimeRecoveryEnabled: boolean };
        TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
      };
      expect({ id, billing: props.BillingMode }).toEqual({ id, billing: 'PAY_PER_REQUEST' });
      expect({ id, pitr: props.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled }).toEqual({
        id,
        pitr: true,
      });
      // Model versions stay until their owner deletes them; job records expire.
      if (id === 'ModelsTable') continue;
      expect({ id, ttl: props.TimeToLiveSpecification }).toEqual({
        id,
        ttl: { AttributeName: expect.stringMatching(/.+/), Enabled: true },
      });
    }
  });
});

describe('starting jobs from files dropped in the inputs bucket', () => {
  const bucketName = { 'Fn::Sub': '${AWS::StackName}-inputs-${AWS::AccountId}' };

  it('names the inputs bucket from the stack and account, so that others can name it without a reference', () => {
    expect(propsOf('InputsBucket').BucketName).toEqual(bucketName);
  });

  it('sends every object created under drop/ to the drops queue, not to a function', () => {
    const notifications = propsOf('InputsBucket').NotificationConfiguration as Record<string, Json>;

    expect(notifications).toEqual({
      QueueConfigurations: [
        {
          Event: 's3:ObjectCreated:*',
          Queue: { 'Fn::GetAtt': ['DropsQueue', 'Arn'] },
          Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'drop/' }] } },
        },
      ],
    });
  });

  it('lets S3 send to the drops queue for the inputs bucket of this account only, before the bucket is configured', () => {
    const policies = ofType('AWS::SQS::QueuePolicy').filter(([, r]) =>
      listOf((r.Properties as { Queues: Json[] }).Queues).some((queue) => targetOf(queue) === 'DropsQueue'),
    );

    expect(policies).toHaveLength(1);
    const [policyId, policy] = policies[0]!;
    const statements = listOf(
      (policy.Properties as { PolicyDocument: { Statement: Statement | Statement[] } }).PolicyDocument
        .Statement,
    );
    expect(statements).toHaveLength(1);
    const statement = statements[0] as unknown as {
      Principal: Json;
      Action: Json;
      Resource: Json;
      Condition: { ArnEquals: Record<string, Json>; StringEquals: Record<string, Json> };
    };
    expect(statement.Principal).toEqual({ Service: 's3.amazonaws.com' });
    expect(statement.Action).toBe('sqs:SendMessage');
    expect(targetOf(statement.Resource)).toBe('DropsQueue');
    expect(flatten(statement.Condition.ArnEquals['aws:SourceArn']!)).toBe(
      `arn:\${AWS::Partition}:s3:::${bucketName['Fn::Sub']}`,
    );
    expect(statement.Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    // S3 checks that it may send to the queue when the notification is configured.
    expect(
      listOf((template.Resources.InputsBucket as { DependsOn?: string | string[] }).DependsOn),
    ).toContain(policyId);
    expect(ofType('AWS::Lambda::Permission').map(([id]) => id)).not.toContain('S3DropInvokePermission');
  });

  it('gathers drops for s3Drop with a batching window, batches of up to 10,000, and partial failures', () => {
    const mapping = ofType('AWS::Lambda::EventSourceMapping')
      .map(([, r]) => r.Properties as Props)
      .find((props) => targetOf(props.EventSourceArn) === 'DropsQueue') as
      | {
          FunctionName: Json;
          BatchSize: number;
          MaximumBatchingWindowInSeconds: number;
          FunctionResponseTypes: string[];
        }
      | undefined;

    expect(targetOf(mapping?.FunctionName)).toBe('S3DropLambdaFunction');
    // AWS takes more than 10 messages a batch only with a window, of at most 300 s.
    expect(mapping?.BatchSize).toBeGreaterThan(10);
    expect(mapping?.BatchSize).toBeLessThanOrEqual(10_000);
    expect(mapping?.MaximumBatchingWindowInSeconds).toBeGreaterThanOrEqual(1);
    expect(mapping?.MaximumBatchingWindowInSeconds).toBeLessThanOrEqual(300);
    expect(mapping?.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it("keeps drops invisible for six times s3Drop's timeout plus the window, and dead-letters them after five receives", () => {
    const queue = resource('DropsQueue') as {
      VisibilityTimeout: number;
      RedrivePolicy: { deadLetterTargetArn: Json; maxReceiveCount: number };
    };
    const { Timeout } = propsOf('S3DropLambdaFunction') as { Timeout: number };

    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * Timeout + 300);
    expect(targetOf(queue.RedrivePolicy.deadLetterTargetArn)).toBe('DropsDeadLetterQueue');
    expect(queue.RedrivePolicy.maxReceiveCount).toBe(5);
  });

  it('gives the s3Drop function the bucket by name, not by a reference back to the bucket', () => {
    const variables = (propsOf('S3DropLambdaFunction').Environment as { Variables: Record<string, Json> })
      .Variables;

    expect(variables.INPUTS_BUCKET).toEqual(bucketName);
    expect(variables.DROP_OWNER_ID).toEqual(expect.any(String));
    expect(variables.JOB_EVENTS_TOPIC_ARN).toEqual({ Ref: 'JobEventsTopic' });
    expect(Number(variables.LONGTAIL_DROP_MAX_OBJECTS)).toBeGreaterThanOrEqual(1);
  });
});

// ---------------------------------------------------------------------------------------------
// CloudFormation creates resources in the order their references imply and refuses a template
// whose references go round in a circle ("Circular dependency between resources").

/** The logical ids a `${...}` in an Fn::Sub string names (pseudo parameters and `${!literal}` aside). */
const subReferences = (body: string, variables: Record<string, Json> = {}): string[] =>
  [...body.matchAll(/\$\{([^}!][^}]*)\}/g)]
    .map((match) => (match[1] ?? '').trim())
    .filter((name) => !(name in variables))
    .map((name) => name.split('.')[0] ?? '')
    .filter((name) => !name.startsWith('AWS::'));

/** Every logical id a value refers to: Ref, Fn::GetAtt (list or `X.Attr`), and Fn::Sub strings, however deep. */
const referencesIn = (value: Json): string[] => {
  if (Array.isArray(value)) return value.flatMap(referencesIn);
  if (!isObject(value)) return [];
  const found: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (key === 'Ref' && typeof child === 'string' && !child.startsWith('AWS::')) found.push(child);
    else if (key === 'Fn::GetAtt') {
      const target = Array.isArray(child)
        ? child[0]
        : typeof child === 'string'
          ? child.split('.')[0]
          : undefined;
      if (typeof target === 'string') found.push(target);
      else found.push(...referencesIn(child));
    } else if (key === 'Fn::Sub') {
      if (typeof child === 'string') found.push(...subReferences(child));
      else if (Array.isArray(child)) {
        const [body, variables] = child as [Json, Json];
        const names = isObject(variables) ? variables : {};
        if (typeof body === 'string') found.push(...subReferences(body, names));
        found.push(...referencesIn(variables));
      }
    } else found.push(...referencesIn(child));
  }
  return found;
};

type Graph = Record<string, string[]>;

/** Resource → the resources it needs first: its references and its DependsOn. */
const dependencyGraphOf = (resources: Record<string, Json>): Graph =>
  Object.fromEntries(
    Object.entries(resources).map(([id, r]) => {
      const raw = isObject(r) ? r : {};
      const needs = [
        ...referencesIn(raw.Properties),
        ...listOf(raw.DependsOn as string | string[] | undefined),
      ];
      return [id, [...new Set(needs)].filter((target) => target in resources)];
    }),
  );

/** The cycles a depth-first search meets, each as `A -> B -> A`. */
const cyclesOf = (graph: Graph): string[] => {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const cycles: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph[node] ?? []) {
      if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].join(' -> '));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of Object.keys(graph)) if (!state.has(node)) visit(node);
  return cycles;
};

describe('the dependency graph of the packaged template', () => {
  it('finds a cycle made of Ref, Fn::GetAtt, Fn::Sub and DependsOn, so that finding none means something', () => {
    const graph = dependencyGraphOf({
      Bucket: { Properties: { Target: { 'Fn::GetAtt': ['Fn', 'Arn'] } }, DependsOn: 'Permission' },
      Permission: { Properties: { FunctionName: { Ref: 'Fn' } } },
      Fn: { Properties: { Env: { 'Fn::Sub': ['${Name}/x', { Name: { 'Fn::Sub': '${Bucket.Arn}' } }] } } },
      Role: { Properties: { Arn: { 'Fn::Sub': '${AWS::Region}:${Bucket}:${!Literal}' } } },
    });

    expect(graph).toEqual({
      Bucket: ['Fn', 'Permission'],
      Permission: ['Fn'],
      Fn: ['Bucket'],
      Role: ['Bucket'],
    });
    expect(cyclesOf(graph)).toEqual(['Bucket -> Fn -> Bucket']);
  });

  it('sees the edges the S3 drop notification adds', () => {
    const graph = dependencyGraphOf(template.Resources as Record<string, Json>);

    expect(graph.InputsBucket).toEqual(expect.arrayContaining(['DropsQueue', 'DropsQueuePolicy']));
    expect(graph.DropsQueuePolicy).toContain('DropsQueue');
    expect(graph.WorkerJobRole).toEqual(
      expect.arrayContaining(['InputsBucket', 'OutputsBucket', 'JobsTable']),
    );
  });

  it('has no circular dependency between resources, which CloudFormation would refuse', () => {
    const graph = dependencyGraphOf(template.Resources as Record<string, Json>);

    expect(cyclesOf(graph)).toEqual([]);
  });

  it('names only resources and parameters of the template in its references', () => {
    const unknown = Object.entries(template.Resources).flatMap(([id, r]) =>
      referencesIn((r as { Properties?: Json }).Properties)
        .filter((target) => !(target in template.Resources) && !(target in (template.Parameters ?? {})))
        .map((target) => `${id} -> ${target}`),
    );

    expect(unknown).toEqual([]);
  });
});

describe('the queues in the packaged template', () => {
  const jobsQueue = () =>
    resource('JobsQueue') as {
      VisibilityTimeout: number;
      MessageRetentionPeriod?: number;
      RedrivePolicy: { deadLetterTargetArn: Json; maxReceiveCount: number };
    };

  it('keeps a message invisible for at least six times the timeout of the function that consumes it', () => {
    const dispatchId = targetOf(jobsQueueMapping()?.FunctionName) ?? '';

    expect(dispatchId).toBe('DispatchLambdaFunction');
    const { Timeout } = propsOf(dispatchId) as { Timeout: number };
    expect(Timeout).toBeGreaterThan(0);
    expect(jobsQueue().VisibilityTimeout).toBeGreaterThanOrEqual(6 * Timeout);
  });

  it('moves a message to the dead-letter queue after at least five receives, and keeps it there longer', () => {
    const { RedrivePolicy: redrive, MessageRetentionPeriod: retention = 345_600 } = jobsQueue();
    const deadLetterId = targetOf(redrive.deadLetterTargetArn) ?? '';
    const deadLetter = propsOf(deadLetterId) as { MessageRetentionPeriod?: number };

    expect(template.Resources[deadLetterId]?.Type).toBe('AWS::SQS::Queue');
    expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(5);
    expect(deadLetter.MessageRetentionPeriod ?? 345_600).toBeGreaterThan(retention);
  });

  it('reports partial batch failures and caps the dispatcher’s concurrency', () => {
    const mapping = jobsQueueMapping();

    expect(mapping?.FunctionResponseTypes).toContain('ReportBatchItemFailures');
    // Lambda accepts 2 to 1000.
    expect(mapping?.ScalingConfig?.MaximumConcurrency).toBeGreaterThanOrEqual(2);
  });
});

describe('reconciling executions that end outside the state machine', () => {
  const ruleFor = (source: string) =>
    ofType('AWS::Events::Rule')
      .map(([id, r]) => ({ id, props: r.Properties as Props }))
      .filter(({ props }) =>
        listOf((props.EventPattern as Props | undefined)?.source as Json[]).includes(source),
      );

  it('sends failed, timed-out and aborted executions of the inference-job state machine to the reconcile function', () => {
    const rules = ruleFor('aws.states');

    expect(rules).toHaveLength(1);
    const pattern = rules[0]?.props.EventPattern as {
      'detail-type': string[];
      detail: { status: string[]; stateMachineArn: Json[] };
    };
    expect(pattern['detail-type']).toEqual(['Step Functions Execution Status Change']);
    // Exactly these: a RUNNING or SUCCEEDED event would have the reconciler fail a healthy job.
    expect([...pattern.detail.status].sort()).toEqual(['ABORTED', 'FAILED', 'TIMED_OUT']);
    expect(pattern.detail.stateMachineArn).toEqual([{ Ref: 'InferenceJobStateMachine' }]);
    const targets = (rules[0]?.props.Targets as { Arn: Json }[]).map((t) => t.Arn);
    expect(targets).toEqual([{ 'Fn::GetAtt': ['ReconcileLambdaFunction', 'Arn'] }]);
  });

  it('lets EventBridge invoke the reconcile function, which may update jobs and publish to job-events', () => {
    const rule = ruleFor('aws.states')[0]?.props;
    const permission = ofType('AWS::Lambda::Permission')
      .map(([, r]) => r.Properties as Props)
      .find((p) => targetOf(p.FunctionName) === 'ReconcileLambdaFunction');
    const reconcile = propsOf('ReconcileLambdaFunction') as {
      Environment: { Variables: Record<string, Json> };
    };

    expect(permission?.Principal).toBe('events.amazonaws.com');
    expect(flatten(permission?.SourceArn)).toMatch(new RegExp(`:rule/${String(rule?.Name)}$`));
    expect(reconcile.Environment.Variables.JOB_EVENTS_TOPIC_ARN).toEqual({ Ref: 'JobEventsTopic' });
    expect(grantsOf('ReconcileIamRoleLambdaExecution')).toMatchObject({
      'dynamodb:GetItem': ['${JobsTable.Arn}'],
      'dynamodb:UpdateItem': ['${JobsTable.Arn}'],
      'sns:Publish': ['${JobEventsTopic}'],
    });
  });
});

describe('operating the packaged stack', () => {
  const operatorsTopic = { Ref: 'OperatorAlarmsTopic' };

  it('alarms when a dead-letter queue holds messages', () => {
    const deadLetterId = targetOf(
      (resource('JobsQueue') as { RedrivePolicy: { deadLetterTargetArn: Json } }).RedrivePolicy
        .deadLetterTargetArn,
    );
    const queuesAlarmed = alarms()
      .filter(
        (alarm) => alarm.Namespace === 'AWS/SQS' && alarm.MetricName === 'ApproximateNumberOfMessagesVisible',
      )
      .map((alarm) => dimensionsOf(alarm).QueueName);

    expect(queuesAlarmed).toContainEqual({ 'Fn::GetAtt': [deadLetterId, 'QueueName'] });
    expect(queuesAlarmed).toContainEqual({ 'Fn::GetAtt': ['WebhooksDeadLetterQueue', 'QueueName'] });
    expect(queuesAlarmed).toContainEqual({ 'Fn::GetAtt': ['DropsDeadLetterQueue', 'QueueName'] });
  });

  it('alarms on failed executions of the inference-job state machine', () => {
    const alarm = alarmOn('AWS/States', 'ExecutionsFailed');

    expect(dimensionsOf(alarm).StateMachineArn).toEqual({ Ref: 'InferenceJobStateMachine' });
  });

  it('alarms on Batch jobs RUNNABLE too long, with the dimensions the monitor function publishes', () => {
    const alarm = alarmOn('Longtail', 'OldestRunnableJobAgeSeconds');
    const monitor = propsOf('MonitorBatchQueueLambdaFunction') as {
      Environment: { Variables: Record<string, Json> };
    };

    expect(alarm).toBeDefined();
    // The monitor reads the queue from BATCH_JOB_QUEUE (its ARN) and publishes its name; Powertools adds `service`.
    expect(monitor.Environment.Variables.BATCH_JOB_QUEUE).toEqual({ Ref: 'GpuJobQueue' });
    expect(dimensionsOf(alarm)).toEqual({
      service: 'longtail',
      JobQueue: propsOf('GpuJobQueue').JobQueueName,
    });
  });

  it('alarms on 5xx answers of the HTTP API', () => {
    const alarm = alarmOn('AWS/ApiGateway', '5xx');

    expect(dimensionsOf(alarm).ApiId).toEqual({ Ref: 'HttpApi' });
  });

  it("sends every alarm to the operators' topic", () => {
    expect(template.Resources.OperatorAlarmsTopic?.Type).toBe('AWS::SNS::Topic');
    expect(alarms().length).toBeGreaterThanOrEqual(4);
    for (const alarm of alarms()) {
      expect({ id: alarm.id, actions: alarm.AlarmActions ?? [] }).toEqual({
        id: alarm.id,
        actions: expect.arrayContaining([operatorsTopic]),
      });
    }
  });

  it('has a dashboard of queue backlog, jobs by status, records per second and job duration', () => {
    const dashboards = ofType('AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = flatten((dashboards[0]?.[1].Properties as Props).DashboardBody);
    // Every `${...}` must name a resource (or attribute) of the stack or a pseudo parameter.
    const references = [...body.matchAll(/\$\{([^}]+)\}/g)].map((m) => (m[1] ?? '').split('.')[0] ?? '');
    const unknown = references.filter((ref) => !ref.startsWith('AWS::') && !(ref in template.Resources));
    const parsed = JSON.parse(body.replace(/\$\{([^}]+)\}/g, '<$1>')) as {
      widgets: { properties: { metrics?: Json[][] } }[];
    };
    const metricNames = parsed.widgets.flatMap((w) => (w.properties.metrics ?? []).map((row) => row[1]));
    const expressions = parsed.widgets.flatMap((w) =>
      (w.properties.metrics ?? []).flatMap((row) => row.filter(isObject).map((o) => o.expression)),
    );

    expect(unknown).toEqual([]);
    expect(body).toContain('"ApproximateNumberOfMessagesVisible","QueueName","${JobsQueue.QueueName}"');
    expect(metricNames).toEqual(
      expect.arrayContaining([
        'ApproximateNumberOfMessagesVisible',
        'JobsCompleted',
        'JobsFailed',
        'JobsCancelled',
        'RecordsSucceeded',
        'JobDurationSeconds',
      ]),
    );
    expect(expressions).toEqual(expect.arrayContaining([expect.stringContaining('PERIOD(')]));
  });

  it('runs the RUNNABLE monitor on a schedule', () => {
    const scheduled = ofType('AWS::Events::Rule')
      .map(
        ([, r]) => r.Properties as { ScheduleExpression?: string; State?: string; Targets?: { Arn: Json }[] },
      )
      .filter((rule) =>
        (rule.Targets ?? []).some((t) => targetOf(t.Arn) === 'MonitorBatchQueueLambdaFunction'),
      );

    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]?.ScheduleExpression).toMatch(/^(rate|cron)\(.+\)$/);
    expect(scheduled[0]?.State).toBe('ENABLED');
  });
});

// ---------------------------------------------------------------------------------------------
// What a second deploy, a missing network route or a full GPU must not break (issue 16).

describe('the worker image a deploy points at', () => {
  const image = () =>
    flatten((resource('WorkerJobDefinition') as unknown as JobDefinition).ContainerProperties.Image);

  it('takes the tag from Parameter Store at every deploy, never from a deploy parameter or a moving tag', () => {
    const parameter = template.Parameters?.WorkerImageTag;

    expect(image()).toMatch(/:\$\{WorkerImageTag\}$/);
    expect(image()).not.toMatch(/latest/);
    // CloudFormation resolves this type from Parameter Store on every create and update.
    expect(parameter?.Type).toBe('AWS::SSM::Parameter::Value<String>');
    expect(parameter?.Default).toBe('/longtail/test/worker-image-tag');
    // The push script finds the parameter through the stack's outputs.
    expect(template.Outputs?.WorkerImageTagParameterName?.Value).toBe(parameter?.Default);
  });

  it('keeps tags immutable, so the tag in Parameter Store always names the image that was pushed', () => {
    const repository = propsOf('WorkerRepository');

    expect(repository.ImageTagMutability).toBe('IMMUTABLE');
    // `serverless remove` can delete the repository: its images can be rebuilt.
    expect(repository.EmptyOnDelete).toBe(true);
  });

  it('has no deploy parameter for the tag and no placeholder subnet or security group to deploy with', () => {
    const config = parseYaml(readFileSync(join(projectRoot, 'serverless.yml'), 'utf8')) as {
      params: { default: Record<string, unknown> };
      custom: { deployPreflight: { requiredParams: Record<string, string> } };
    };
    const defaults = config.params.default;

    expect(defaults).not.toHaveProperty('workerImageTag');
    expect(defaults.subnetIds).toBe('');
    expect(defaults.securityGroupIds).toBe('');
    // The deploy check reads exactly the parameters the compute environments use.
    expect(config.custom.deployPreflight.requiredParams).toEqual({
      subnetIds: '${param:subnetIds}',
      securityGroupIds: '${param:securityGroupIds}',
    });
  });
});

describe('jobs that cannot run', () => {
  const queueLimits = () =>
    (
      resource('GpuJobQueue') as {
        JobStateTimeLimitActions?: {
          State: string;
          Action: string;
          Reason: string;
          MaxTimeSeconds: number;
        }[];
      }
    ).JobStateTimeLimitActions ?? [];

  it('cancels a job waiting RUNNABLE while every compute environment lacks capacity', () => {
    const capacity = queueLimits().find((a) => a.Reason === 'CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY');

    expect(capacity).toEqual(expect.objectContaining({ State: 'RUNNABLE', Action: 'CANCEL' }));
    // Long enough for Spot and on demand, all types, to be tried; short of the state machine's 3 days.
    expect(capacity?.MaxTimeSeconds).toBeGreaterThanOrEqual(1800);
    expect(capacity?.MaxTimeSeconds).toBeLessThanOrEqual(4 * 3600);
  });

  it('offers Spot several GPU types of at least two families, all of which the image supports', () => {
    for (const [, environment] of ofType('AWS::Batch::ComputeEnvironment')) {
      const types = computeResourcesOf(environment.Properties as Props).InstanceTypes['Fn::Split'][1].split(
        ',',
      );
      expect(types.length).toBeGreaterThanOrEqual(3);
      expect(new Set(types.map((type) => type.split('.')[0])).size).toBeGreaterThanOrEqual(2);
      expect(types.every((type) => imageGpuTypes.test(type))).toBe(true);
    }
  });

  it('has the RUNNABLE monitor fail jobs stuck for reasons Batch cannot see, after the alarm and before the 3-day limit', () => {
    const monitor = propsOf('MonitorBatchQueueLambdaFunction') as {
      Environment: { Variables: Record<string, Json> };
    };
    const failAfter = Number(monitor.Environment.Variables.RUNNABLE_FAIL_AFTER_SECONDS);
    const alarm = alarmOn('Longtail', 'OldestRunnableJobAgeSeconds') as { Threshold?: number } | undefined;

    expect(failAfter).toBeGreaterThan(Number(alarm?.Threshold));
    expect(failAfter).toBeLessThan(259_200);
    expect(grantsOf('MonitorBatchQueueIamRoleLambdaExecution')).toMatchObject({
      'batch:TerminateJob': ['arn:${AWS::Partition}:batch:${AWS::Region}:${AWS::AccountId}:job/*'],
      'batch:DescribeJobs': ['*'],
    });
  });
});

describe('the data a stack holds', () => {
  const stateful = ['JobsTable', 'ModelsTable', 'InputsBucket', 'OutputsBucket', 'ModelsBucket'];

  it('keeps the tables and the buckets when the stack is removed or a change would replace them', () => {
    for (const id of stateful) {
      const { DeletionPolicy, UpdateReplacePolicy } = template.Resources[id] ?? {};
      expect({ id, DeletionPolicy, UpdateReplacePolicy }).toEqual({
        id,
        DeletionPolicy: expect.stringMatching(/^Retain(ExceptOnCreate)?$/),
        UpdateReplacePolicy: 'Retain',
      });
    }
  });

  it('versions the outputs bucket, expiring old versions so that undoing costs weeks, not forever', () => {
    const outputs = propsOf('OutputsBucket') as {
      VersioningConfiguration?: { Status: string };
      LifecycleConfiguration: {
        Rules: {
          Status: string;
          Prefix?: string;
          NoncurrentVersionExpiration?: { NoncurrentDays: number };
        }[];
      };
    };
    const noncurrent = outputs.LifecycleConfiguration.Rules.filter(
      (rule) => rule.Status === 'Enabled' && rule.NoncurrentVersionExpiration,
    );

    expect(outputs.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(
      noncurrent.find((rule) => rule.Prefix === undefined)?.NoncurrentVersionExpiration?.NoncurrentDays,
    ).toBeGreaterThan(0);
    expect(
      noncurrent.find((rule) => rule.Prefix === 'work/')?.NoncurrentVersionExpiration?.NoncurrentDays,
    ).toBeLessThanOrEqual(7);
  });

  it('names the kept table and buckets in the stack outputs, to delete them on purpose', () => {
    expect(template.Outputs?.JobsTableName?.Value).toEqual({ Ref: 'JobsTable' });
    expect(template.Outputs?.InputsBucketName?.Value).toEqual({ Ref: 'InputsBucket' });
    expect(template.Outputs?.OutputsBucketName?.Value).toEqual({ Ref: 'OutputsBucket' });
  });
});

describe('the packaged functions', () => {
  const zips = () => readdirSync(packageDir).filter((name) => name.endsWith('.zip'));
  // A function's own bundle (the console's zip also carries the page's browser modules).
  const scriptsOf = (zip: string) =>
    [...filesInZip(join(packageDir, zip)).entries()].filter(
      ([name]) => name.endsWith('.js') && !name.startsWith('console/'),
    );

  it('packages the console’s page and modules with the function that serves them', () => {
    const files = [...filesInZip(join(packageDir, 'console.zip')).keys()];

    expect(files).toEqual(
      expect.arrayContaining([
        'console/index.html',
        'console/app.js',
        'console/graph.js',
        'console/api.js',
        'console/style.css',
      ]),
    );
  });

  it('packages every function, each zip under 1 MiB', () => {
    const functions = ofType('AWS::Lambda::Function');

    expect(zips()).toHaveLength(functions.length);
    for (const zip of zips()) {
      const kib = Math.ceil(statSync(join(packageDir, zip)).size / 1024);
      expect({ zip, underOneMiB: kib < 1024 }).toEqual({ zip, underOneMiB: true });
    }
  });

  it('bundles the AWS SDK versions package-lock.json pins instead of relying on the runtime’s', () => {
    const lock = JSON.parse(readFileSync(join(projectRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    const pinned = lock.packages['node_modules/@aws-sdk/client-dynamodb']?.version ?? '';
    // The client class, not the word: a schema's description may name DynamoDB.
    const usingDynamo = zips().filter((zip) =>
      scriptsOf(zip).some(([, code]) => code.toString('utf8').includes('DynamoDBClient')),
    );

    expect(pinned).toMatch(/^3\.\d+\.\d+$/);
    expect(usingDynamo.length).toBeGreaterThan(5);
    // The SDK's optional SigV4a signers (S3 Multi-Region Access Points only), required in a try.
    const optional = /@aws-sdk\/signature-v4(-crt|a)\b/;
    for (const zip of zips()) {
      const code = scriptsOf(zip)
        .map(([, script]) => script.toString('utf8'))
        .join('\n');
      // Nothing from @aws-sdk (or anything else in node_modules) is left for the runtime to supply.
      expect({
        zip,
        external: (
          code.match(/require\(["'](@aws-sdk|@smithy|@aws-lambda-powertools|@middy|zod)[^"']*["']\)/g) ?? []
        ).filter((call) => !optional.test(call)),
      }).toEqual({
        zip,
        external: [],
      });
    }
    for (const zip of usingDynamo) {
      const code = scriptsOf(zip)
        .map(([, script]) => script.toString('utf8'))
        .join('\n');
      expect({ zip, pinned: code.includes(pinned) }).toEqual({ zip, pinned: true });
    }
  });

  it('loads every handler from its zip alone, with no node_modules to fall back on', () => {
    const sandbox = mkdtempSync(join(tmpdir(), 'longtail-bundles-'));
    try {
      for (const zip of zips()) {
        const dir = join(sandbox, zip.replace(/\.zip$/, ''));
        for (const [name, data] of filesInZip(join(packageDir, zip))) {
          mkdirSync(join(dir, name, '..'), { recursive: true });
          writeFileSync(join(dir, name), data);
        }
        const [script] = scriptsOf(zip).map(([name]) => name);
        const loaded = execFileSync(
          process.execPath,
          [
            '-e',
            `const m = require(${JSON.stringify(join(dir, script ?? ''))}); process.stdout.write(typeof m.handler);`,
          ],
          { cwd: dir, env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' }, encoding: 'utf8' },
        );
        expect({ zip, handler: loaded }).toEqual({ zip, handler: 'function' });
      }
    } finally {
      rmSync(sandbox, { recursive: true, force: true });
    }
  }, 60_000);
});
