import { z } from 'zod';

/**
 * Every `error.code` the HTTP API answers, with what it means: the OpenAPI document lists, per
 * route and status, which of these it can answer. test/unit/openapi-error-codes.test.ts reads the
 * sources for every code thrown and fails when one is missing here.
 */
export const errorCodes = {
  INVALID_REQUEST:
    'The body, query string or a path name does not fit the schema; `details.issues` says where.',
  MALFORMED_JSON: 'The request body is not valid JSON.',
  UNSUPPORTED_MEDIA_TYPE: 'The body was not sent as application/json.',
  PAYLOAD_TOO_LARGE:
    'The body is over the inline limit (256 KiB by default); upload the input to S3 instead.',
  INVALID_PATH_PARAMETER: 'A path parameter is not 1 to 128 letters, digits, ".", "_", "~" or "-".',
  INTERNAL_ERROR: 'Something went wrong on the API’s side; try again.',
  INVALID_IDEMPOTENCY_KEY: 'Idempotency-Key is not 1 to 255 printable ASCII characters.',
  IDEMPOTENCY_KEY_REUSED: 'The Idempotency-Key already made a job from a different request.',
  JOB_EXISTS: 'A job with this id already exists.',
  UNKNOWN_MODEL: 'No model of that name (or version, or alias); `details.available` lists the names.',
  INVALID_RECORDS: 'Inline records do not fit the model’s inputs; `details.issues` names record and field.',
  INVALID_S3_URI: 'input.s3Uri is not of the form s3://bucket/key.',
  INPUT_OUTSIDE_BUCKET: 'input.s3Uri is outside the inputs bucket, or under a reserved prefix.',
  INPUT_NOT_ALLOWED: 'The API key’s owner may not read that input.',
  INVALID_WEBHOOK_URL: 'webhookUrl points somewhere webhooks may not go.',
  INVALID_FILTER: 'options.inputFilter or outputFilter is not a JSONPath this API supports.',
  INVALID_JOIN_SOURCE: 'options.joinSource=Input does not fit the input and output formats.',
  MODEL_NOT_READY: 'The model version is still uploading or checking, or failed its check.',
  INVALID_CURSOR: 'The cursor is not one this API returned for this query.',
  JOB_NOT_FOUND: 'The caller has no job with this id.',
  JOB_ALREADY_ENDED: 'The job completed or failed before it could be cancelled.',
  JOB_NOT_FINISHED: 'The job is still pending or running; retry its failed records once it has ended.',
  NOTHING_TO_RETRY: 'The job has no failed records.',
  MODEL_NOT_FOUND: 'The caller sees no model (or version) of that name.',
  INVALID_MODEL: 'The files do not make a model: a file listed twice, or no (or no single) .onnx file.',
  INVALID_MANIFEST: 'The manifest does not fit the manifest schema; `details.issues` says where.',
  MODEL_VERSION_EXISTS: 'That version is already registered with other files; versions never change.',
  MODEL_UPLOAD_INCOMPLETE: 'Not every file is uploaded at its declared size; `details.files` names them.',
  MODEL_VERSION_IN_USE: 'An alias or a pending or running job uses the version.',
  NOT_RESUMABLE:
    'The job cannot be resumed: it is not failed, failed before it ran, failed on its own input (a retry would fail the same way), or Step Functions refused to redrive its execution; the message says which.',
  OPERATOR_ONLY: 'The API key’s owner is not an operator (LONGTAIL_OPERATORS); the console’s views need one.',
  EXECUTION_HISTORY_GONE:
    'The job’s execution history is gone: Step Functions keeps it 90 days after the end (locally, a data folder from before histories were kept has none).',
  EXECUTION_HISTORY_UNAVAILABLE:
    'The Step Functions endpoint does not answer GetExecutionHistory (an older local runtime).',
  SHARD_NOT_FOUND: 'The job has no shard of that index.',
  UNKNOWN_ROUTE:
    'The operator handler has no view for the route it was called on (a deployment that routes a path to it that it does not serve).',
  NO_SUCH_FILE: 'The console has no file of that name.',
} as const;

export type ErrorCode = keyof typeof errorCodes;

/** The envelope every 4xx and 5xx the handlers answer comes in, narrowed to `codes`. */
export const errorEnvelopeOf = (codes: readonly [ErrorCode, ...ErrorCode[]]) =>
  z.strictObject({
    error: z.strictObject({
      code: z.enum(codes),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  });

/**
 * What API Gateway itself answers before any handler runs: 401 without an Authorization header,
 * 403 when the authorizer refuses the key (a bare `{ message }`, not the handlers' envelope).
 */
export const gatewayErrorSchema = z
  .strictObject({ message: z.string() })
  .meta({ id: 'GatewayError', example: { message: 'Unauthorized' } });
