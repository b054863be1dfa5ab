import { BatchClient } from '@aws-sdk/client-batch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * One client per service per process, created on first use. Endpoints come from the SDK's own
 * `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` variables, so no caller knows whether it
 * talks to AWS or to the local emulators.
 */
const endpointOverridden = () => Boolean(process.env.AWS_ENDPOINT_URL || process.env.AWS_ENDPOINT_URL_S3);

const lazily = <T>(create: () => T) => {
  let instance: T | undefined;
  return {
    get: (): T => (instance ??= create()),
    /** Tests swap a client for one pointed elsewhere. */
    set: (replacement: T | undefined) => {
      instance = replacement;
    },
  };
};

export const s3Client = lazily(
  () =>
    new S3Client({
      // Emulators serve buckets by path, not by virtual host.
      forcePathStyle: endpointOverridden(),
    }),
);
export const dynamoDocumentClient = lazily(() =>
  DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);
export const sqsClient = lazily(() => new SQSClient({}));
export const snsClient = lazily(() => new SNSClient({}));
export const sfnClient = lazily(() => new SFNClient({}));
export const batchClient = lazily(() => new BatchClient({}));
export const logsClient = lazily(() => new CloudWatchLogsClient({}));

/** Drops every cached client, so the next use reads the endpoint settings again. */
export const resetClients = () => {
  for (const client of [
    s3Client,
    dynamoDocumentClient,
    sqsClient,
    snsClient,
    sfnClient,
    batchClient,
    logsClient,
  ])
    client.set(undefined);
};
