import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { setModelAlias } from '../lib/use-cases/model-catalog';
import { setAliasRequestSchema } from '../lib/domain/model-version';
import { parseOrThrow } from '../lib/validation';
import { httpHandler, json, ownerOf } from './middleware';

const registry = new DynamoModelRegistry();

/** PUT /models/{name}/aliases/{alias} `{ "version": "3" }`: points the alias at a ready version. */
export const handler = httpHandler(
  async (event) => {
    const alias = await setModelAlias(
      ownerOf(event),
      event.pathParameters?.name ?? '',
      event.pathParameters?.alias ?? '',
      parseOrThrow(setAliasRequestSchema, event.body ?? {}, 'alias request').version,
      { registry },
    );
    return json(200, alias);
  },
  { jsonBody: true },
);
