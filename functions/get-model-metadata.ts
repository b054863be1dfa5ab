import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { oipModelMetadata } from '../lib/use-cases/model-catalog';
import { httpHandler, json, ownerOf } from './middleware';

const registry = new DynamoModelRegistry();

/**
 * GET /v2/models/{name} and /v2/models/{name}/versions/{version}: the model's metadata as the
 * Open Inference Protocol (KServe, Triton) serves it, so that clients written for those work here.
 */
export const handler = httpHandler(async (event) =>
  json(
    200,
    await oipModelMetadata(
      ownerOf(event),
      event.pathParameters?.name ?? '',
      event.pathParameters?.version,
      registry,
    ),
  ),
);
