import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { S3ModelArtifacts } from '../lib/aws/s3';
import { logger } from '../lib/logger';
import { deleteModelVersion } from '../lib/use-cases/model-catalog';
import { httpHandler, json, ownerOf } from './middleware';

const deps = {
  registry: new DynamoModelRegistry(),
  artifacts: new S3ModelArtifacts(),
  jobs: new DynamoJobStore(),
};

/** DELETE /models/{name}/versions/{version}: refused (409) while an alias or a running job uses it. */
export const handler = httpHandler(async (event) => {
  const name = event.pathParameters?.name ?? '';
  const version = event.pathParameters?.version ?? '';
  await deleteModelVersion(ownerOf(event), name, version, deps);
  logger.info('Model version deleted', { model: name, version });
  return json(200, { name, version, deleted: true });
});
