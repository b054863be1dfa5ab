import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { handler } from '../../functions/s3-drop';
import { setHandlerEnv, testResources } from '../fixtures/env';
import { jsonObjectBody } from '../fixtures/jobs';
import { lambdaContext } from '../fixtures/lambda-context';
import { objectCreatedEvent } from '../fixtures/s3-events';
import { sqsRecord } from '../fixtures/sqs-events';
import { answerShippedModels } from '../fixtures/models';

const dynamo = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);
const sns = mockClient(SNSClient);

const drop = (event: ReturnType<typeof objectCreatedEvent>) =>
  handler(event, lambdaContext('longtail-test-s3Drop'));

/** The events as the drops queue delivers them: each S3 event the body of one message. */
const queued = (...events: unknown[]): SQSEvent => ({
  Records: events.map((event, i) => sqsRecord(`m-${i}`, JSON.stringify(event))),
});
const deliver = (event: SQSEvent) =>
  handler(event, lambdaContext('longtail-test-s3Drop')) as Promise<SQSBatchResponse>;

describe('s3-drop handler', () => {
  beforeEach(() => {
    setHandlerEnv({ DROP_OWNER_ID: 'drop-owner' });
    for (const mock of [dynamo, s3, sqs, sns]) mock.reset();
    answerShippedModels(dynamo);
    s3.on(GetObjectCommand).rejects(
      new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }),
    );
    dynamo.on(GetCommand, { TableName: testResources.jobsTable }).resolves({});
    dynamo.on(PutCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    sns.on(PublishCommand).resolves({ MessageId: 'n-1' });
    s3.on(PutObjectCommand).resolves({});
  });

  it('starts a job, owned by DROP_OWNER_ID, for the decoded key of each dropped file', async () => {
    await drop(objectCreatedEvent({ encodedKey: 'drop/churn-risk/red+flower%2B2.csv' }));

    const key = 'drop/churn-risk/red flower+2.csv';
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: testResources.inputsBucket,
      Key: `${key}.options.json`,
    });
    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
      ownerId: 'drop-owner',
      source: 's3-drop',
      inputUri: `s3://${testResources.inputsBucket}/${key}`,
      status: 'pending',
    });
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
  });

  it('starts one job per record of the event', async () => {
    await drop(
      objectCreatedEvent(
        { encodedKey: 'drop/churn-risk/a.csv', sequencer: '01' },
        { encodedKey: 'drop/churn-risk/b.csv', sequencer: '02' },
      ),
    );

    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 2);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 2);
  });

  it('answers a redelivered event with the job it made, making none', async () => {
    await drop(objectCreatedEvent({ encodedKey: 'drop/churn-risk/a.csv' }));
    const item = dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item;
    dynamo
      .on(GetCommand, { TableName: testResources.jobsTable })
      .resolves({ Item: { ...item, status: 'running' } });

    await drop(objectCreatedEvent({ encodedKey: 'drop/churn-risk/a.csv' }));

    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
  });

  it('publishes job.failed for a rejected drop, and queues nothing', async () => {
    s3.on(GetObjectCommand, {
      Bucket: testResources.inputsBucket,
      Key: 'drop/churn-risk/a.csv.options.json',
    }).resolves({ Body: jsonObjectBody({ options: { maxBatchSize: 0 } }) });

    await drop(objectCreatedEvent({ encodedKey: 'drop/churn-risk/a.csv' }));

    expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
      status: 'failed',
      error: { code: 'INVALID_SIDECAR' },
    });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: testResources.jobEventsTopicArn,
      MessageAttributes: expect.objectContaining({ type: { DataType: 'String', StringValue: 'job.failed' } }),
    });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('fails the invocation when the job cannot be stored, so that Lambda retries the event', async () => {
    dynamo.on(PutCommand).rejects(new Error('ProvisionedThroughputExceededException'));

    await expect(drop(objectCreatedEvent({ encodedKey: 'drop/churn-risk/a.csv' }))).rejects.toThrow(
      'ProvisionedThroughputExceededException',
    );
  });

  it('fails fast when DROP_OWNER_ID is not set', async () => {
    setHandlerEnv({ DROP_OWNER_ID: undefined });

    await expect(drop(objectCreatedEvent({ encodedKey: 'drop/churn-risk/a.csv' }))).rejects.toThrow(
      'DROP_OWNER_ID',
    );
  });

  describe('through the drops queue', () => {
    const png = (i: number) =>
      objectCreatedEvent({ encodedKey: `drop/text-orientation/p${i}.png`, sequencer: `0${i}` });

    it('writes one manifest and starts one job for the images of a delivery, reporting no failure', async () => {
      const response = await deliver(queued(png(1), png(2), png(3)));

      expect(response).toEqual({ batchItemFailures: [] });
      expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
      const manifest = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
      expect(manifest.Key).toMatch(/^drop-manifests\/[0-9a-f-]{36}\.manifest\.json$/);
      expect(JSON.parse(String(manifest.Body))).toEqual([
        { prefix: `s3://${testResources.inputsBucket}/drop/text-orientation/` },
        'p1.png',
        'p2.png',
        'p3.png',
      ]);
      expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 1);
      expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
        ownerId: 'drop-owner',
        source: 's3-drop',
        inputUri: `s3://${testResources.inputsBucket}/${manifest.Key}`,
        input: { type: 's3', s3DataType: 'ManifestFile' },
      });
      expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    });

    it("skips S3's test event", async () => {
      const response = await deliver(
        queued({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: testResources.inputsBucket }),
      );

      expect(response).toEqual({ batchItemFailures: [] });
      expect(dynamo).not.toHaveReceivedCommand(PutCommand);
    });

    it('reports the messages of the jobs it could not store, so that only they come back', async () => {
      dynamo.on(PutCommand).rejects(new Error('ProvisionedThroughputExceededException'));

      const response = await deliver(
        queued(png(1), png(2), objectCreatedEvent({ encodedKey: 'drop/churn-risk/a.csv', sequencer: '09' })),
      );

      expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m-0', 'm-1', 'm-2']);
    });
  });
});
