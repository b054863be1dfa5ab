import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { oipModelReady } from '../lib/use-cases/model-catalog';
import { httpHandler, json, ownerOf } from './middleware';

const registry = new DynamoModelRegistry();

/**
 * GET /v2/models/{name}/ready and /v2/models/{name}/versions/{version}/ready: 200 when that
 * version (or `latest`) is ready to serve, 400 otherwise, as the Open Inference Protocol says.
 */
export const handler = httpHandler(async (event) => {
  const readiness = await oipModelReady(
    ownerOf(event),
    event.pathParameters?.name ?? '',
    event.pathParameters?.version,
    registry,
  );
  return json(readiness.ready ? 200 : 400, readiness);
});
