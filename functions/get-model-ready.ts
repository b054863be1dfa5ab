import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { oipModelReady } from '../lib/use-cases/model-catalog';
import { httpHandler, json, ownerOf } from './middleware';

const registry = new DynamoModelRegistry();

/**
 * GET /v2/models/{name}/ready and /v2/models/{name}/versions/{version}/ready: 200 when that
 * version (or `latest`) is ready to serve, 400 otherwise, as the Open Inference Protocol says;
 * the 400 also carries the API's error envelope, as every 4xx does.
 */
export const handler = httpHandler(async (event) => {
  const readiness = await oipModelReady(
    ownerOf(event),
    event.pathParameters?.name ?? '',
    event.pathParameters?.version,
    registry,
  );
  if (readiness.ready) return json(200, readiness);
  const which = event.pathParameters?.version ? 'This version' : 'Its latest version';
  return json(400, {
    ...readiness,
    error: { code: 'MODEL_NOT_READY', message: `${which} of ${readiness.name} is not ready to serve.` },
  });
});
