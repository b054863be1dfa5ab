import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LongtailClient } from '../cli/client';
import type { Job } from '../cli/client';
import { developmentApiKeys } from '../lib/auth/api-keys';
import { demoCustomers, toJsonLines } from './demo-data';
import { startLocalStack } from './stack';

/**
 * `npm run demo`: starts Longtail on free ports with a scratch data folder, uploads 40,000
 * customers to the inputs bucket, submits a churn-risk job with the typed client, follows it to the end,
 * prints its status, the job-events message and the first predictions, then stops everything.
 * Exits 0 only when the job completed.
 */
const recordCount = 40_000;
const apiKey = developmentApiKeys.split(':')[1] ?? '';

const main = async () => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const dataDir = mkdtempSync(join(tmpdir(), 'longtail-demo-'));
  const stack = await startLocalStack({ apiPort: 0, awsPort: 0, dataDir, apiKeys: developmentApiKeys });
  const aws = { endpoint: stack.awsEndpoint, region: stack.region };
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  const sqs = new SQSClient(aws);
  const sns = new SNSClient(aws);
  try {
    console.log(`Longtail started: API ${stack.apiUrl}, AWS endpoint ${stack.awsEndpoint}\n`);

    // Listen to job-events the way an operator's subscription would.
    const { QueueUrl: eventsQueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: 'demo-job-events' }),
    );
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: eventsQueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: stack.names.jobEventsTopicArn,
        Protocol: 'sqs',
        Endpoint: Attributes?.QueueArn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );

    const customers = demoCustomers(recordCount);
    const inputKey = 'demo/customers.jsonl';
    await s3.send(
      new PutObjectCommand({
        Bucket: stack.names.inputsBucket,
        Key: inputKey,
        Body: toJsonLines(customers),
        ContentType: 'application/x-ndjson',
      }),
    );
    console.log(`Uploaded ${recordCount} customers to s3://${stack.names.inputsBucket}/${inputKey}`);

    // The typed client users import (longtail/client): the API's shapes, from its OpenAPI document.
    const client = new LongtailClient({ apiUrl: stack.apiUrl, apiKey });
    const accepted = await client.submitJob({
      model: 'churn-risk',
      input: { s3Uri: `s3://${stack.names.inputsBucket}/${inputKey}` },
      // Keep each customer's id with its prediction, as SageMaker's JoinSource and OutputFilter do;
      // small shards, so that the demo shows an array job.
      options: {
        joinSource: 'Input',
        outputFilter: "$['customer_id','prediction']",
        shardSizeMB: 1,
        maxShards: 4,
      },
    });
    console.log(`POST /jobs → 202 ${JSON.stringify(accepted)}\n`);

    const started = Date.now();
    let job: Job | undefined;
    let lastStatus = '';
    while (Date.now() - started < 120_000) {
      job = await client.getJob(accepted.jobId);
      const progress = `${job.status.padEnd(9)}  records ${JSON.stringify(job.counts)}  shards ${JSON.stringify(job.shards)}`;
      if (progress !== lastStatus) {
        lastStatus = progress;
        console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s  ${progress}`);
      }
      if (['completed', 'failed', 'cancelled'].includes(job.status)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    console.log(`\nGET /jobs/${accepted.jobId}\n${JSON.stringify(job, null, 2)}\n`);

    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: eventsQueueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 1 }),
    );
    console.log(`job-events message: ${Messages[0]?.Body ?? '(none received)'}\n`);

    if (job?.status === 'completed') {
      const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(job.outputUri) ?? [];
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const lines = (await Body?.transformToString())?.trim().split('\n') ?? [];
      console.log(`First predictions of ${lines.length} (${job.outputUri}):`);
      const byId = new Map(customers.map((c) => [c.customer_id, c]));
      for (const line of lines.slice(0, 5)) {
        const result = JSON.parse(line) as {
          customer_id: string;
          prediction: { label: string; score: number };
        };
        const customer = byId.get(result.customer_id);
        console.log(
          `  ${customer?.customer_id}  tenure ${String(customer?.tenure_months).padStart(2)} mo, ${customer?.contract.padEnd(14)}` +
            ` $${customer?.monthly_charges.toFixed(2).padStart(6)}, ${customer?.support_calls} calls → ${result.prediction.label}` +
            ` (${(result.prediction.score * 100).toFixed(1)}%)`,
        );
      }
    }
    return job?.status === 'completed' ? 0 : 1;
  } finally {
    for (const client of [s3, sqs, sns]) client.destroy();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
