import { z } from 'zod';
import { jobAcceptedSchema, jobListSchema, jobViewSchema, listJobsQuerySchema } from '../domain/job-view';
import {
  deletedVersionSchema,
  modelAliasViewSchema,
  modelDetailSchema,
  modelListSchema,
  modelVersionViewSchema,
  oipModelMetadataSchema,
  oipModelReadySchema,
  registeredVersionSchema,
} from '../domain/model-view';
import {
  modelAliasSchema,
  modelNameSchema,
  modelVersionSchema,
  registerVersionRequestSchema,
  setAliasRequestSchema,
} from '../domain/model-version';
import { createJobRequestSchema, idempotencyKeySchema } from '../use-cases/create-job';
import {
  executionViewSchema,
  outputHeadsViewSchema,
  queuesViewSchema,
  shardLogsViewSchema,
  shardsViewSchema,
  stateMachineViewSchema,
} from '../use-cases/operator-views';
import { finishRequestSchema } from '../use-cases/register-model';
import { pathParameterSchema } from '../validation';
import type { ErrorCode } from './error-codes';

/**
 * The HTTP API, one entry per route of serverless.yml's httpApi events: what it takes and what it
 * answers, as the zod schemas the handlers validate with and the views they answer with. The
 * OpenAPI document (./document.ts) is generated from this table; test/unit/openapi-routes.test.ts
 * fails when serverless.yml has a route this table lacks, or the other way round. A new route is
 * one entry here.
 */

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

export interface RouteResponse {
  description: string;
  schema: z.ZodType;
  headers?: z.ZodObject;
  /** The media types the body comes in; `application/json` unless said (the console's files). */
  mediaTypes?: string[];
}

export interface ApiRoute {
  method: HttpMethod;
  /** As serverless.yml writes it: `/jobs/{jobId}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: 'jobs' | 'models' | 'open-inference' | 'operator' | 'service';
  /** False for the routes served without an API key (no authorizer in serverless.yml). */
  auth: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: z.ZodObject;
  /** A JSON body: the route also answers MALFORMED_JSON, 413 and 415. */
  body?: { schema: z.ZodType; required: boolean; example: unknown };
  responses: Record<number, RouteResponse>;
  /** The error codes the route answers itself, by status (the stack's own are added for every route). */
  errors?: Partial<Record<400 | 403 | 404 | 409, ErrorCode[]>>;
}

const jobIdParam = pathParameterSchema.meta({
  description: 'The job’s id, as `POST /jobs` answered it.',
  example: '0b5e6f7a-3c1d-4e2f-9a8b-7c6d5e4f3a2b',
});
const jobPath = z.object({ jobId: jobIdParam });
const modelPath = z.object({ name: modelNameSchema.meta({ example: 'churn-risk' }) });
const versionPath = modelPath.extend({ version: modelVersionSchema.meta({ example: '1' }) });

const acceptedHeaders = z.object({
  location: z.string().meta({ description: 'The job’s status URL.' }),
  'idempotent-replayed': z
    .literal('true')
    .optional()
    .meta({ description: 'Present when this answers a request made before (same key, same body).' }),
});

/** Checks of the create-job request that answer 400 before anything is stored. */
const jobRequestErrors: ErrorCode[] = [
  'INVALID_REQUEST',
  'UNKNOWN_MODEL',
  'INVALID_RECORDS',
  'INVALID_S3_URI',
  'INPUT_OUTSIDE_BUCKET',
  'INVALID_WEBHOOK_URL',
  'INVALID_FILTER',
  'INVALID_JOIN_SOURCE',
];

const exampleFile = {
  name: 'model.onnx',
  sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  size: 1024,
};

/** Every operator view reads one job of the caller's, checks the key is an operator's, and shares one handler. */
const operatorJobErrors = {
  403: ['OPERATOR_ONLY'],
  404: ['JOB_NOT_FOUND', 'UNKNOWN_ROUTE'],
} satisfies ApiRoute['errors'];

const consoleFile = z.string().meta({ description: 'The file’s text.' });

export const apiRoutes: ApiRoute[] = [
  {
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Liveness, for load balancers and smoke tests',
    tag: 'service',
    auth: false,
    responses: {
      200: {
        description: 'The API answers.',
        schema: z.strictObject({ status: z.literal('ok') }).meta({ id: 'Health', example: { status: 'ok' } }),
      },
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This document',
    tag: 'service',
    auth: false,
    responses: {
      200: {
        description: 'The OpenAPI 3.1 document of this API, generated from the schemas its handlers use.',
        schema: z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) }),
      },
    },
  },
  {
    method: 'post',
    path: '/jobs',
    operationId: 'submitJob',
    summary: 'Submit a job: inline records or an S3 input',
    description:
      'Answers 202 at once; the job runs asynchronously. Poll its `statusUrl`, or give a `webhookUrl`.',
    tag: 'jobs',
    auth: true,
    headers: z.object({ 'Idempotency-Key': idempotencyKeySchema.optional() }),
    body: {
      schema: createJobRequestSchema,
      required: true,
      example: {
        model: 'churn-risk',
        input: { s3Uri: 's3://longtail-inputs/customers.csv' },
        options: { maxFailedRecordsPercent: 5 },
      },
    },
    responses: {
      202: {
        description: 'Accepted (or, with a repeated Idempotency-Key, the job it made before).',
        schema: jobAcceptedSchema,
        headers: acceptedHeaders,
      },
    },
    errors: {
      400: ['INVALID_IDEMPOTENCY_KEY', ...jobRequestErrors],
      403: ['INPUT_NOT_ALLOWED'],
      409: ['MODEL_NOT_READY', 'IDEMPOTENCY_KEY_REUSED', 'JOB_EXISTS'],
    },
  },
  {
    method: 'get',
    path: '/jobs',
    operationId: 'listJobs',
    summary: 'The caller’s jobs, newest first, a page at a time',
    tag: 'jobs',
    auth: true,
    query: listJobsQuerySchema,
    responses: { 200: { description: 'A page of jobs.', schema: jobListSchema } },
    errors: { 400: ['INVALID_REQUEST', 'INVALID_CURSOR'] },
  },
  {
    method: 'get',
    path: '/jobs/{jobId}',
    operationId: 'getJob',
    summary: 'A job’s status, counts and live progress',
    tag: 'jobs',
    auth: true,
    params: jobPath,
    responses: { 200: { description: 'The job.', schema: jobViewSchema } },
    errors: { 404: ['JOB_NOT_FOUND'] },
  },
  {
    method: 'post',
    path: '/jobs/{jobId}/cancel',
    operationId: 'cancelJob',
    summary: 'Cancel a pending or running job (repeating it is harmless)',
    tag: 'jobs',
    auth: true,
    params: jobPath,
    responses: { 200: { description: 'The job, cancelled.', schema: jobViewSchema } },
    errors: { 404: ['JOB_NOT_FOUND'], 409: ['JOB_ALREADY_ENDED'] },
  },
  {
    method: 'post',
    path: '/jobs/{jobId}/retry-failed',
    operationId: 'retryFailed',
    summary: 'A new job over a finished job’s failed records (asking twice gives the same job)',
    tag: 'jobs',
    auth: true,
    params: jobPath,
    responses: {
      202: {
        description: 'The retry job (or the one asked for before).',
        schema: jobAcceptedSchema,
        headers: acceptedHeaders,
      },
    },
    errors: {
      404: ['JOB_NOT_FOUND'],
      409: ['JOB_NOT_FINISHED', 'NOTHING_TO_RETRY', 'MODEL_NOT_FOUND', 'JOB_EXISTS'],
    },
  },
  {
    method: 'post',
    path: '/jobs/{jobId}/resume',
    operationId: 'resumeJob',
    summary: 'Resume a job that failed for a curable reason, from where it stopped',
    description:
      'Only a failed job whose error is WORKER_FAILED, TIMED_OUT, INTERNAL_ERROR or EXECUTION_FAILED: its execution is redriven (the same execution, its finished states and succeeded shards not run again). Answers the job, running again.',
    tag: 'jobs',
    auth: true,
    params: jobPath,
    responses: { 202: { description: 'Resumed: the job, running again.', schema: jobViewSchema } },
    errors: { 404: ['JOB_NOT_FOUND'], 409: ['NOT_RESUMABLE'] },
  },
  {
    method: 'get',
    path: '/models',
    operationId: 'listModels',
    summary: 'The models the caller can run, and how to call each',
    tag: 'models',
    auth: true,
    responses: {
      200: { description: 'The caller’s models and the shared examples.', schema: modelListSchema },
    },
  },
  {
    method: 'get',
    path: '/models/{name}',
    operationId: 'getModel',
    summary: 'A model’s versions and aliases',
    tag: 'models',
    auth: true,
    params: modelPath,
    responses: { 200: { description: 'The model.', schema: modelDetailSchema } },
    errors: { 400: ['INVALID_REQUEST'], 404: ['MODEL_NOT_FOUND'] },
  },
  {
    method: 'post',
    path: '/models/{name}/versions',
    operationId: 'registerModelVersion',
    summary: 'Register a model version: answers an upload link per file',
    description:
      'Then PUT each file to its link and call `finish`. The same registration sent again answers 200 with the links still needed.',
    tag: 'models',
    auth: true,
    params: modelPath,
    body: {
      schema: registerVersionRequestSchema,
      required: true,
      example: { files: [exampleFile], aliases: ['prod'] },
    },
    responses: {
      200: { description: 'The same registration, made before.', schema: registeredVersionSchema },
      201: { description: 'Registered; upload the files.', schema: registeredVersionSchema },
    },
    errors: {
      400: ['INVALID_REQUEST', 'INVALID_MODEL', 'INVALID_MANIFEST'],
      409: ['MODEL_VERSION_EXISTS'],
    },
  },
  {
    method: 'get',
    path: '/models/{name}/versions/{version}',
    operationId: 'getModelVersion',
    summary: 'One version: its status and, once checked, its signature',
    tag: 'models',
    auth: true,
    params: versionPath,
    responses: { 200: { description: 'The version.', schema: modelVersionViewSchema } },
    errors: { 400: ['INVALID_REQUEST'], 404: ['MODEL_NOT_FOUND'] },
  },
  {
    method: 'delete',
    path: '/models/{name}/versions/{version}',
    operationId: 'deleteModelVersion',
    summary: 'Delete a version and its files (refused while an alias or a running job uses it)',
    tag: 'models',
    auth: true,
    params: versionPath,
    responses: { 200: { description: 'Deleted.', schema: deletedVersionSchema } },
    errors: { 400: ['INVALID_REQUEST'], 404: ['MODEL_NOT_FOUND'], 409: ['MODEL_VERSION_IN_USE'] },
  },
  {
    method: 'post',
    path: '/models/{name}/versions/{version}/finish',
    operationId: 'finishModelVersion',
    summary: 'The files are uploaded: complete multipart uploads and start the check',
    tag: 'models',
    auth: true,
    params: versionPath,
    body: { schema: finishRequestSchema, required: false, example: {} },
    responses: {
      202: {
        description: 'Checking (ONNX Runtime loads the graph and runs one inference).',
        schema: modelVersionViewSchema,
      },
    },
    errors: {
      400: ['INVALID_REQUEST', 'INVALID_MODEL'],
      404: ['MODEL_NOT_FOUND'],
      409: ['MODEL_UPLOAD_INCOMPLETE'],
    },
  },
  {
    method: 'put',
    path: '/models/{name}/aliases/{alias}',
    operationId: 'setModelAlias',
    summary: 'Point an alias at a ready version',
    tag: 'models',
    auth: true,
    params: modelPath.extend({ alias: modelAliasSchema.meta({ example: 'prod' }) }),
    body: { schema: setAliasRequestSchema, required: true, example: { version: '1' } },
    responses: { 200: { description: 'The alias.', schema: modelAliasViewSchema } },
    errors: { 400: ['INVALID_REQUEST'], 404: ['MODEL_NOT_FOUND'], 409: ['MODEL_NOT_READY'] },
  },
  {
    method: 'get',
    path: '/v2/models/{name}',
    operationId: 'getOipModelMetadata',
    summary: 'Open Inference Protocol model metadata of the version `latest` points at',
    tag: 'open-inference',
    auth: true,
    params: modelPath,
    responses: { 200: { description: 'The model’s metadata.', schema: oipModelMetadataSchema } },
    errors: { 400: ['INVALID_REQUEST'], 404: ['MODEL_NOT_FOUND'] },
  },
  {
    method: 'get',
    path: '/v2/models/{name}/versions/{version}',
    operationId: 'getOipModelVersionMetadata',
    summary: 'Open Inference Protocol model metadata of one version',
    tag: 'open-inference',
    auth: true,
    params: versionPath,
    responses: { 200: { description: 'The version’s metadata.', schema: oipModelMetadataSchema } },
    errors: { 400: ['INVALID_REQUEST'], 404: ['MODEL_NOT_FOUND'] },
  },
  {
    method: 'get',
    path: '/v2/models/{name}/ready',
    operationId: 'getOipModelReady',
    summary: 'Whether the version `latest` points at can serve',
    tag: 'open-inference',
    auth: true,
    params: modelPath,
    responses: readinessResponses(),
    errors: { 404: ['MODEL_NOT_FOUND'] },
  },
  {
    method: 'get',
    path: '/v2/models/{name}/versions/{version}/ready',
    operationId: 'getOipModelVersionReady',
    summary: 'Whether one version can serve',
    tag: 'open-inference',
    auth: true,
    params: versionPath,
    responses: readinessResponses(),
    errors: { 404: ['MODEL_NOT_FOUND'] },
  },
  {
    method: 'get',
    path: '/console',
    operationId: 'getConsole',
    summary: 'The operator console’s page (no key: the page asks for one)',
    tag: 'operator',
    auth: false,
    responses: {
      200: { description: 'The console’s HTML page.', schema: consoleFile, mediaTypes: ['text/html'] },
    },
  },
  {
    method: 'get',
    path: '/console/{file}',
    operationId: 'getConsoleFile',
    summary: 'One of the console’s files: its page, ES modules and stylesheet',
    tag: 'operator',
    auth: false,
    params: z.object({ file: pathParameterSchema.meta({ example: 'app.js' }) }),
    responses: {
      200: {
        description: 'The file, as HTML, JavaScript or CSS by its name’s extension.',
        schema: consoleFile,
        mediaTypes: ['text/html', 'text/javascript', 'text/css'],
      },
    },
    errors: { 404: ['NO_SUCH_FILE'] },
  },
  {
    method: 'get',
    path: '/ops/state-machine',
    operationId: 'getStateMachine',
    summary: 'The state machine’s definition, as deployed (operators only)',
    tag: 'operator',
    auth: true,
    responses: { 200: { description: 'The ASL definition.', schema: stateMachineViewSchema } },
    errors: { 403: ['OPERATOR_ONLY'], 404: ['UNKNOWN_ROUTE'] },
  },
  {
    method: 'get',
    path: '/ops/jobs/{jobId}/execution',
    operationId: 'getJobExecution',
    summary: 'A job’s execution, state by state, from its history (operators only)',
    tag: 'operator',
    auth: true,
    params: jobPath,
    responses: {
      200: { description: 'The execution, or why there is none yet.', schema: executionViewSchema },
    },
    errors: {
      ...operatorJobErrors,
      404: [...operatorJobErrors[404], 'EXECUTION_HISTORY_GONE', 'EXECUTION_HISTORY_UNAVAILABLE'],
    },
  },
  {
    method: 'get',
    path: '/ops/jobs/{jobId}/shards',
    operationId: 'getJobShards',
    summary: 'Each shard of a job: status, attempt, counts, records per second, error (operators only)',
    tag: 'operator',
    auth: true,
    params: jobPath,
    responses: { 200: { description: 'The shards.', schema: shardsViewSchema } },
    errors: operatorJobErrors,
  },
  {
    method: 'get',
    path: '/ops/jobs/{jobId}/shards/{shard}/logs',
    operationId: 'getShardLogs',
    summary: 'The worker log of each attempt of a shard (operators only; the local runtime’s)',
    tag: 'operator',
    auth: true,
    params: jobPath.extend({
      shard: pathParameterSchema.meta({ description: 'The shard’s index, from 0.', example: '0' }),
    }),
    responses: { 200: { description: 'The attempts’ last lines.', schema: shardLogsViewSchema } },
    errors: {
      ...operatorJobErrors,
      404: [...operatorJobErrors[404], 'SHARD_NOT_FOUND'],
    },
  },
  {
    method: 'get',
    path: '/ops/jobs/{jobId}/outputs',
    operationId: 'getJobOutputHeads',
    summary: 'The first lines of a job’s output and failure files (operators only)',
    tag: 'operator',
    auth: true,
    params: jobPath,
    responses: { 200: { description: 'The files’ first lines.', schema: outputHeadsViewSchema } },
    errors: operatorJobErrors,
  },
  {
    method: 'get',
    path: '/ops/queues',
    operationId: 'getQueues',
    summary: 'The jobs queue, the dead-letter queue and Batch’s RUNNABLE jobs (operators only)',
    tag: 'operator',
    auth: true,
    responses: { 200: { description: 'The queues.', schema: queuesViewSchema } },
    errors: { 403: ['OPERATOR_ONLY'], 404: ['UNKNOWN_ROUTE'] },
  },
];

/**
 * The protocol answers readiness with a status: 200 ready, 400 not. The 400 carries the readiness
 * and the API's error envelope (MODEL_NOT_READY) together.
 */
function readinessResponses(): Record<number, RouteResponse> {
  return {
    200: { description: 'Ready to serve.', schema: oipModelReadySchema },
    400: {
      description:
        'Not ready (`ready: false`, error MODEL_NOT_READY), or a path name that is not valid (INVALID_REQUEST).',
      schema: z.union([
        oipModelReadySchema.extend({
          ready: z.literal(false),
          error: z.strictObject({ code: z.literal('MODEL_NOT_READY'), message: z.string() }),
        }),
        z.strictObject({
          error: z.strictObject({
            code: z.enum(['INVALID_REQUEST', 'INVALID_PATH_PARAMETER']),
            message: z.string(),
            details: z.record(z.string(), z.unknown()).optional(),
          }),
        }),
      ]),
    },
  };
}
