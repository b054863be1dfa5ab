import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { getVisibleModel } from '../lib/use-cases/model-catalog';
import { modelVersionView } from '../lib/domain/model-view';
import { NotFound } from '../lib/errors';
import { httpHandler, json, ownerOf } from './middleware';

const registry = new DynamoModelRegistry();

/** GET /models/{name}/versions/{version}: one version, with its status and, once checked, its signature. */
export const handler = httpHandler(async (event) => {
  const model = await getVisibleModel(ownerOf(event), event.pathParameters?.name ?? '', registry);
  const wanted = event.pathParameters?.version ?? '';
  const version = model.versions.find((v) => v.version === wanted);
  if (!version)
    throw new NotFound('MODEL_NOT_FOUND', `There is no model version ${model.name}:${wanted.slice(0, 64)}.`);
  return json(200, modelVersionView(version));
});
