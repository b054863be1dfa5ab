import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { modelCatalogView } from '../lib/domain/model-view';
import { listVisibleModels } from '../lib/use-cases/model-catalog';
import { httpHandler, json, ownerOf } from './middleware';

const registry = new DynamoModelRegistry();

/** GET /models: what a caller can run (its own models and the shared examples), and how to call each. */
export const handler = httpHandler(async (event) => {
  const models = await listVisibleModels(ownerOf(event), registry);
  return json(200, { models: models.map(modelCatalogView) });
});
