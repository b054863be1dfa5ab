import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { modelVersionView } from '../lib/domain/model-view';
import { getVisibleVersion } from '../lib/use-cases/model-catalog';
import { httpHandler, json, ownerOf } from './middleware';

const registry = new DynamoModelRegistry();

/** GET /models/{name}/versions/{version}: one version, with its status and, once checked, its signature. */
export const handler = httpHandler(async (event) => {
  const version = await getVisibleVersion(
    ownerOf(event),
    event.pathParameters?.name ?? '',
    event.pathParameters?.version ?? '',
    registry,
  );
  return json(200, modelVersionView(version));
});
