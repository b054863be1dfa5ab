import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { RegistryModelCatalog } from '../lib/use-cases/model-catalog';
import { S3ObjectStore } from '../lib/aws/s3';
import { resources } from '../lib/config';
import { InvalidInput } from '../lib/errors';
import { createJob, idempotencyKeySchema } from '../lib/use-cases/create-job';
import { SqsJobQueue } from '../lib/aws/sqs';
import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { logger } from '../lib/logger';
import { httpHandler, jobAccepted, ownerOf } from './middleware';
import type { HttpEvent } from './middleware';

const store = new DynamoJobStore();
const queue = new SqsJobQueue();
const objects = new S3ObjectStore();
const models = new RegistryModelCatalog(new DynamoModelRegistry());

const idempotencyKeyOf = (event: HttpEvent): string | undefined => {
  const key = event.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (!idempotencyKeySchema.safeParse(key).success) {
    throw new InvalidInput(
      'INVALID_IDEMPOTENCY_KEY',
      'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces (a UUID works).',
    );
  }
  return key;
};

/** POST /jobs: accepts a job and answers 202 with where to watch it; a replayed key answers the same. */
export const handler = httpHandler(
  async (event) => {
    const ownerId = ownerOf(event);
    const idempotencyKey = idempotencyKeyOf(event);
    const { job, replayed } = await createJob({ ownerId, source: 'api', idempotencyKey }, event.body, {
      store,
      queue,
      objects,
      models,
      inputsBucket: resources.inputsBucket(),
      outputsBucket: resources.outputsBucket(),
    });
    logger.info(replayed ? 'Job request replayed' : 'Job accepted', {
      jobId: job.jobId,
      model: job.model,
      input: job.input,
    });
    return jobAccepted(event, job, replayed);
  },
  { jsonBody: true },
);
