import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { S3Event } from 'aws-lambda';
import type { LocalLambdas } from './lambda-runtime';

export interface LambdaNotification {
  functionName: string;
  event: string;
  prefix: string;
  suffix: string;
}

/** An SQS queue S3 sends its events to (`QueueConfigurations`). */
export interface QueueNotification {
  /** The queue's logical id in serverless.yml. */
  queue: string;
  event: string;
  prefix: string;
  suffix: string;
}

type KeyFilter = { S3Key?: { Rules?: { Name: string; Value: string }[] } };

interface NotificationConfiguration {
  LambdaConfigurations?: {
    Event: string;
    Function: { 'Fn::GetAtt': [string, string] };
    Filter?: KeyFilter;
  }[];
  QueueConfigurations?: {
    Event: string;
    Queue: { 'Fn::GetAtt': [string, string] };
    Filter?: KeyFilter;
  }[];
}

const keyFilterOf = (filter: KeyFilter | undefined) => {
  const rules = filter?.S3Key?.Rules ?? [];
  return {
    prefix: rules.find((r) => r.Name.toLowerCase() === 'prefix')?.Value ?? '',
    suffix: rules.find((r) => r.Name.toLowerCase() === 'suffix')?.Value ?? '',
  };
};

/** The queue notifications a bucket's CloudFormation properties declare. */
export const queueNotificationsOf = (
  configuration: NotificationConfiguration | undefined,
): QueueNotification[] =>
  (configuration?.QueueConfigurations ?? []).map((config) => ({
    queue: config.Queue['Fn::GetAtt'][0],
    event: config.Event,
    ...keyFilterOf(config.Filter),
  }));

/** What S3 sends a destination when a notification is configured: consumers must skip it. */
export const s3TestEvent = (bucket: string) => ({
  Service: 'Amazon S3',
  Event: 's3:TestEvent',
  Time: new Date().toISOString(),
  Bucket: bucket,
  RequestId: 'local',
  HostId: 'local',
});

/** The Lambda notifications a bucket's CloudFormation properties declare. */
export const lambdaNotificationsOf = (
  configuration: NotificationConfiguration | undefined,
  lambdas: LocalLambdas,
): LambdaNotification[] =>
  (configuration?.LambdaConfigurations ?? []).map((config) => {
    const fn = lambdas.byLogicalId(config.Function['Fn::GetAtt'][0]);
    if (!fn) throw new Error(`No function ${config.Function['Fn::GetAtt'][0]} for the bucket notification`);
    return { functionName: fn.name, event: config.Event, ...keyFilterOf(config.Filter) };
  });

/** S3 writes keys in notifications form-encoded: spaces as `+`, slashes kept. */
export const encodeS3EventKey = (key: string) =>
  encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');

let sequence = 0n;
/** S3's sequencer: grows with each write of a key; the same for a redelivered event. */
const nextSequencer = () => {
  sequence += 1n;
  return (BigInt(Date.now()) * 1_000_000n + sequence).toString(16).toUpperCase().padStart(18, '0');
};

/** The S3 event record S3 would send for a created object. */
export const objectCreatedEvent = (
  object: {
    bucket: string;
    key: string;
    size: number;
    etag: string;
    how: 'Put' | 'Copy' | 'CompleteMultipartUpload';
  },
  region: string,
): S3Event => ({
  Records: [
    {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: region,
      eventTime: new Date().toISOString(),
      eventName: `ObjectCreated:${object.how}`,
      userIdentity: { principalId: 'local' },
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      responseElements: { 'x-amz-request-id': 'local', 'x-amz-id-2': 'local' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'longtail-local',
        bucket: {
          name: object.bucket,
          ownerIdentity: { principalId: 'local' },
          arn: `arn:aws:s3:::${object.bucket}`,
        },
        object: {
          key: encodeS3EventKey(object.key),
          size: object.size,
          eTag: object.etag.replace(/"/g, ''),
          sequencer: nextSequencer(),
        },
      },
    },
  ],
});

/** Whether a notification's event type (e.g. `s3:ObjectCreated:*`) covers an event name. */
export const notificationMatches = (
  notification: Pick<LambdaNotification, 'event' | 'prefix' | 'suffix'>,
  eventName: string,
  key: string,
) => {
  const pattern = notification.event.replace(/^s3:/, '');
  const typeMatches = pattern.endsWith('*')
    ? eventName.startsWith(pattern.slice(0, -1))
    : eventName === pattern;
  return typeMatches && key.startsWith(notification.prefix) && key.endsWith(notification.suffix);
};

/**
 * Sends the bucket's events to the queues its QueueConfigurations name, as S3 does: the test
 * event once, when the notification is set up (each start here), then each matching event.
 * Sends are tracked so that stopping can wait for them.
 */
export const queueNotifier = (
  sqs: SQSClient,
  notifications: readonly QueueNotification[],
  queueUrlOf: (logicalId: string) => string,
  track: (sending: Promise<unknown>) => void,
) => {
  const send = (notification: QueueNotification, body: unknown) => {
    const sending = sqs
      .send(
        new SendMessageCommand({
          QueueUrl: queueUrlOf(notification.queue),
          MessageBody: JSON.stringify(body),
        }),
      )
      .catch((error: Error) => {
        console.error(`S3 notification to ${notification.queue} not sent: ${error.message}`);
      });
    track(sending);
  };
  return {
    sendTestEvents: (bucket: string) => {
      for (const notification of notifications) send(notification, s3TestEvent(bucket));
    },
    /** `key` as written: the event carries it URL-encoded. */
    notify: (event: S3Event, key: string) => {
      const record = event.Records[0];
      if (!record) return;
      for (const notification of notifications) {
        if (notificationMatches(notification, record.eventName, key)) send(notification, event);
      }
    },
  };
};
