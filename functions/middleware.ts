import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { inlineLimitBytes, publicApiUrl, resources } from '../lib/config';
import type { Job } from '../lib/domain/job';
import { statusUrlOf, webhookSecretOf } from '../lib/domain/job-view';
import type { JobAccepted } from '../lib/domain/job-view';
import {
  Forbidden,
  InvalidInput,
  LongtailError,
  PayloadTooLarge,
  Unauthorized,
  httpStatusOf,
} from '../lib/errors';
import { logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import { pathParameterSchema } from '../lib/validation';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';

/** The event an HTTP handler sees once the standard stack has run. */
export type HttpEvent<TBody = unknown> = Omit<APIGatewayProxyEventV2, 'body'> & {
  body: TBody;
  requestContext: APIGatewayProxyEventV2['requestContext'] & {
    authorizer?: { lambda?: { ownerId?: string; operator?: boolean | string } };
  };
};

export type HttpResult = APIGatewayProxyStructuredResultV2 & {
  statusCode: number;
  body: string;
  headers: Record<string, string>;
};

export const json = (
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** The owner the Lambda authorizer resolved from the caller's API key. */
export const ownerOf = (event: HttpEvent): string => {
  const ownerId = event.requestContext.authorizer?.lambda?.ownerId;
  if (!ownerId) throw new Unauthorized();
  return ownerId;
};

/** The owner, when the key is an operator's (`LONGTAIL_OPERATORS`); 403 OPERATOR_ONLY otherwise. */
export const operatorOf = (event: HttpEvent): string => {
  const ownerId = ownerOf(event);
  const operator = event.requestContext.authorizer?.lambda?.operator;
  if (operator !== true && operator !== 'true') {
    throw new Forbidden(
      'OPERATOR_ONLY',
      `The key of owner ${ownerId} has no operator rights: the console needs a key whose owner is listed in LONGTAIL_OPERATORS.`,
    );
  }
  return ownerId;
};

/** `https://<api domain>` in AWS; the local runtime says where it listens. */
export const apiBaseUrl = (event: HttpEvent): string =>
  publicApiUrl() ?? `https://${event.requestContext.domainName}`;

/**
 * 202 for an accepted job: where to watch it and where its output goes, its webhook secret, and
 * whether this answers a replayed request.
 */
export const jobAccepted = (
  event: HttpEvent,
  job: Job,
  replayed: boolean,
  extra: { parentJobId?: string } = {},
): HttpResult => {
  const statusUrl = statusUrlOf(apiBaseUrl(event), job.jobId);
  const body: JobAccepted = {
    jobId: job.jobId,
    ...extra,
    status: job.status,
    statusUrl,
    outputUri: job.outputUri,
    ...webhookSecretOf(job),
  };
  return json(202, body, { location: statusUrl, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) });
};

const middyHttpError = (error: unknown): error is { statusCode: number; message: string; expose?: boolean } =>
  typeof error === 'object' && error !== null && 'statusCode' in error && 'expose' in error;

/** Maps every error to a status and `{ error: { code, message, details? } }`, in this one place. */
const errorResponse = (error: unknown): HttpResult => {
  if (error instanceof LongtailError) {
    const status = httpStatusOf(error);
    if (status < 500) {
      return json(status, {
        error: {
          code: error.code,
          message: error.message,
          ...(error.details ? { details: error.details } : {}),
        },
      });
    }
  }
  if (middyHttpError(error) && error.statusCode === 415) {
    return error.message.startsWith('Unsupported Media Type')
      ? json(415, {
          error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the request body as application/json.' },
        })
      : json(400, { error: { code: 'MALFORMED_JSON', message: 'The request body is not valid JSON.' } });
  }
  logger.error('Request failed', { error: error as Error });
  return json(500, {
    error: { code: 'INTERNAL_ERROR', message: 'Something went wrong on our side; try again.' },
  });
};

const rejectOversizeBody = (): middy.MiddlewareObj<APIGatewayProxyEventV2> => ({
  before: ({ event }) => {
    if (event.body === undefined) return;
    const bytes = event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').length
      : Buffer.byteLength(event.body);
    const limit = inlineLimitBytes();
    if (bytes > limit) {
      throw new PayloadTooLarge(
        'PAYLOAD_TOO_LARGE',
        `The request body is ${bytes} bytes; inline input is limited to ${limit} bytes (${Math.floor(limit / 1024)} KiB). ` +
          `Upload larger inputs to s3://${resources.inputsBucket()}/ and submit { "input": { "s3Uri": "s3://…" } } instead.`,
        { limitBytes: limit, bodyBytes: bytes },
      );
    }
  },
});

/** Every path parameter of every route, checked against pathParameterSchema (lib/validation.ts). */
const checkPathParameters = (): middy.MiddlewareObj<APIGatewayProxyEventV2> => ({
  before: ({ event }) => {
    for (const [name, value = ''] of Object.entries(event.pathParameters ?? {})) {
      if (pathParameterSchema.safeParse(value).success) continue;
      throw new InvalidInput(
        'INVALID_PATH_PARAMETER',
        `The ${name} in the path is not valid: send 1 to 128 letters, digits, ".", "_", "~" or "-".`,
        { parameter: name, length: value.length },
      );
    }
  },
});

const errorsAsJson = (): middy.MiddlewareObj<APIGatewayProxyEventV2, HttpResult> => ({
  onError: (request) => {
    request.response = errorResponse(request.error);
  },
});

type HttpFn<TBody> = (event: HttpEvent<TBody>, context: Context) => Promise<HttpResult>;

/**
 * The standard stack for API handlers: logger context, header normalisation, (optionally) a
 * size-checked JSON body, and the error mapper, which runs last on the way out.
 */
export const httpHandler = <TBody = unknown>(fn: HttpFn<TBody>, options: { jsonBody?: boolean } = {}) => {
  const handler = middy<APIGatewayProxyEventV2, HttpResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(errorsAsJson())
    .use(checkPathParameters())
    .use(httpHeaderNormalizer());
  if (options.jsonBody) handler.use(rejectOversizeBody()).use(httpJsonBodyParser());
  return handler.handler(fn as unknown as HttpFn<unknown> as never);
};

/**
 * The stack for the state machine's Lambda tasks: logger context with the job id. Errors are
 * left to propagate: their names are what the state machine's Retry and Catch match.
 */
export const taskHandler = <TEvent extends { jobId: string }, TResult>(
  fn: (event: TEvent) => Promise<TResult>,
  options: { metrics?: boolean } = {},
) => {
  const handler = middy<TEvent, TResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .before(({ event }) => {
      logger.appendKeys({ jobId: event.jobId });
    });
  if (options.metrics) handler.use(logMetrics(metrics));
  return handler.handler(fn);
};

/**
 * The stack for queue consumers: logger context, each record handled on its own, and the ones
 * that failed reported back (ReportBatchItemFailures), so that only they come back after their
 * visibility timeout.
 */
export const sqsRecordsHandler = (
  handleRecord: (record: SQSRecord) => Promise<void>,
  failure: { message: string; level: 'warn' | 'error' },
) =>
  middy<SQSEvent>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(
      sqsPartialBatchFailure({
        logger: (reason, record) =>
          logger[failure.level](failure.message, { reason, messageId: record.messageId }),
      }),
    )
    .handler(async (event) => Promise.allSettled(event.Records.map(handleRecord)));

/**
 * The stack for everything else AWS invokes (EventBridge rules, schedules, S3 notifications, the
 * API's authorizer): logger context, and metrics when asked. Errors propagate, so that the
 * service retries the event.
 */
export const eventHandler = <TEvent, TResult>(
  fn: (event: TEvent, context: Context) => Promise<TResult>,
  options: { metrics?: boolean } = {},
) => {
  const handler = middy<TEvent, TResult>().use(injectLambdaContext(logger, { resetKeys: true }));
  if (options.metrics) handler.use(logMetrics(metrics));
  return handler.handler(fn);
};
