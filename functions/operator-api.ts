import definition from '../statemachines/inference-job.asl.json';
import { AwsBatchQueueReader } from '../lib/aws/batch';
import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { DynamoShardProgressStore } from '../lib/aws/dynamodb/shard-progress-store';
import { S3ObjectStore } from '../lib/aws/s3';
import { SqsQueueInspector } from '../lib/aws/sqs';
import { StepFunctionsExecutionHistory } from '../lib/aws/step-functions';
import { NotFound } from '../lib/errors';
import { LocalWorkerLogs } from '../lib/logs/local-worker-logs';
import { CloudWatchWorkerLogs } from '../lib/aws/worker-logs';
import { workerLogSource } from '../lib/config';
import { executionOf, outputHeadsOf, queuesOf, shardsOf } from '../lib/use-cases/operator-views';
import type { ShardLogsView, StateMachineView } from '../lib/use-cases/operator-views';
import { getOwnedJob } from '../lib/use-cases/get-job';
import type { HttpEvent, HttpResult } from './middleware';
import { httpHandler, json, operatorOf } from './middleware';

const store = new DynamoJobStore();
const progress = new DynamoShardProgressStore();
const history = new StepFunctionsExecutionHistory();
const objects = new S3ObjectStore();
const queues = new SqsQueueInspector();
const batch = new AwsBatchQueueReader();
/** The local runtime's per-attempt files, or CloudWatch Logs in a deployment: as configuration says. */
const workerLogs = () => {
  const source = workerLogSource();
  return source.kind === 'local-files'
    ? new LocalWorkerLogs(source.dir)
    : new CloudWatchWorkerLogs(() => source.logGroup);
};

const jobIdOf = (event: HttpEvent) => event.pathParameters?.jobId ?? '';

/** Each operator route: what the console reads besides the job API. */
const routes: Record<string, (ownerId: string, event: HttpEvent) => Promise<unknown>> = {
  // The ASL file itself, as deployed (its Resource fields are CloudFormation references).
  'GET /ops/state-machine': async (): Promise<StateMachineView> => ({ name: 'inference-job', definition }),
  'GET /ops/jobs/{jobId}/execution': (ownerId, event) =>
    executionOf(ownerId, jobIdOf(event), { store, history }),
  'GET /ops/jobs/{jobId}/shards': (ownerId, event) => shardsOf(ownerId, jobIdOf(event), { store, progress }),
  'GET /ops/jobs/{jobId}/shards/{shard}/logs': async (ownerId, event): Promise<ShardLogsView> => {
    const jobId = jobIdOf(event);
    const job = await getOwnedJob(ownerId, jobId, store);
    const shard = Number(event.pathParameters?.shard);
    if (!Number.isInteger(shard) || shard < 0 || shard >= Math.max(1, job.shardCount ?? 0)) {
      throw new NotFound('SHARD_NOT_FOUND', `Job ${jobId} has no shard ${event.pathParameters?.shard}.`);
    }
    return { jobId, shard, attempts: await workerLogs().tail(jobId, shard, 200) };
  },
  'GET /ops/jobs/{jobId}/outputs': (ownerId, event) =>
    outputHeadsOf(ownerId, jobIdOf(event), { store, objects }),
  'GET /ops/queues': () => queuesOf({ queues, batch, store }),
};

/** The console's reads (operators only): state machine, execution history, shards, logs, outputs, queues. */
export const handler = httpHandler(async (event): Promise<HttpResult> => {
  const ownerId = operatorOf(event);
  const route = routes[event.routeKey];
  if (!route) throw new NotFound('UNKNOWN_ROUTE', `No operator route ${event.routeKey}.`);
  return json(200, await route(ownerId, event), { 'cache-control': 'no-store' });
});
