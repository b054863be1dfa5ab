import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { getVisibleModel } from '../lib/use-cases/model-catalog';
import { modelVersionView } from '../lib/domain/model-view';
import { httpHandler, json, ownerOf } from './middleware';

const registry = new DynamoModelRegistry();

/** GET /models/{name}: a model's versions (newest last) and aliases; another owner's model is 404. */
export const handler = httpHandler(async (event) => {
  const model = await getVisibleModel(ownerOf(event), event.pathParameters?.name ?? '', registry);
  return json(200, {
    name: model.name,
    shared: model.shared,
    versions: model.versions.map(modelVersionView),
    aliases: Object.fromEntries(model.aliases.map((alias) => [alias.alias, alias.version])),
  });
});
