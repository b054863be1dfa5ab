import { S3ObjectStore } from '../lib/aws/object-store';
import { resources } from '../lib/config';
import { InvalidInput } from '../lib/errors';
import { createJob, createJobRequestSchema } from '../lib/jobs/create-job';
import { SqsJobQueue } from '../lib/jobs/job-queue';
import { DynamoJobStore } from '../lib/jobs/job-store';
import { logger } from '../lib/logger';
import { jobView, webhookSecretOf } from '../lib/jobs/job-view';
import { parseOrThrow } from '../lib/validation';
import { apiBaseUrl, httpHandler, json, ownerOf } from './middleware';
import type { HttpEvent } from './middleware';

const store = new DynamoJobStore();
const queue = new SqsJobQueue();
const objects = new S3ObjectStore();

/** `Idempotency-Key`: printable ASCII, as the IETF draft and Stripe use it; up to 255 characters. */
const idempotencyKeyOf = (event: HttpEvent): string | undefined => {
  const key = event.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
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
    const request = parseOrThrow(createJobRequestSchema, event.body, 'job request');
    const { job, replayed } = await createJob({ ownerId, source: 'api', idempotencyKey }, request, {
      store,
      queue,
      objects,
      inputsBucket: resources.inputsBucket(),
      outputsBucket: resources.outputsBucket(),
    });
    logger.info(replayed ? 'Job request replayed' : 'Job accepted', {
      jobId: job.jobId,
      model: job.model,
      input: job.input,
    });
    const view = jobView(job, apiBaseUrl(event));
    return json(
      202,
      {
        jobId: job.jobId,
        status: job.status,
        statusUrl: view.statusUrl,
        outputUri: job.outputUri,
        ...webhookSecretOf(job),
      },
      { location: view.statusUrl, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) },
    );
  },
  { jsonBody: true },
);
