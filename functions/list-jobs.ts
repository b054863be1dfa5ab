import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { jobView, listJobsQuerySchema } from '../lib/domain/job-view';
import { priceTable } from '../lib/config';
import { parseOrThrow } from '../lib/validation';
import { apiBaseUrl, httpHandler, json, ownerOf } from './middleware';

const store = new DynamoJobStore();

/** GET /jobs: the caller's jobs, newest first, optionally of one status, a page at a time. */
export const handler = httpHandler(async (event) => {
  const ownerId = ownerOf(event);
  const query = parseOrThrow(listJobsQuerySchema, event.queryStringParameters ?? {}, 'query string');
  const page = await store.listByOwner(ownerId, query);
  const base = apiBaseUrl(event);
  const prices = priceTable();
  return json(200, {
    jobs: page.jobs.map((job) => jobView(job, base, prices)),
    nextCursor: page.nextCursor ?? null,
  });
});
