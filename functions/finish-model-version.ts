import { BatchModelChecks } from '../lib/aws/batch';
import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { S3ModelArtifacts } from '../lib/aws/s3';
import { resources } from '../lib/config';
import { logger } from '../lib/logger';
import { modelVersionView } from '../lib/domain/model-view';
import { finishModelVersion } from '../lib/use-cases/register-model';
import { httpHandler, json, ownerOf } from './middleware';

const deps = {
  registry: new DynamoModelRegistry(),
  artifacts: new S3ModelArtifacts(),
  checks: new BatchModelChecks(),
};

/** POST /models/{name}/versions/{version}/finish: the files are uploaded; check the version. */
export const handler = httpHandler(
  async (event) => {
    const version = await finishModelVersion(
      ownerOf(event),
      event.pathParameters?.name ?? '',
      event.pathParameters?.version ?? '',
      event.body,
      { ...deps, modelsBucket: resources.modelsBucket() },
    );
    logger.info('Model version uploaded', {
      model: version.name,
      version: version.version,
      status: version.status,
    });
    return json(202, modelVersionView(version));
  },
  { jsonBody: true },
);
