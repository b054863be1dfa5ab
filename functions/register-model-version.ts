import { BatchModelChecks } from '../lib/aws/batch';
import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { S3ModelArtifacts } from '../lib/aws/s3';
import { resources } from '../lib/config';
import { logger } from '../lib/logger';
import { registerModelVersion } from '../lib/use-cases/register-model';
import { modelVersionView } from '../lib/domain/model-view';
import { httpHandler, json, ownerOf } from './middleware';

const deps = {
  registry: new DynamoModelRegistry(),
  artifacts: new S3ModelArtifacts(),
  checks: new BatchModelChecks(),
};

/**
 * POST /models/{name}/versions: records a new version and answers with an upload link per file.
 * The same registration sent again is answered 200 with the links still needed.
 */
export const handler = httpHandler(
  async (event) => {
    const ownerId = ownerOf(event);
    const { version, uploads, replayed } = await registerModelVersion(
      ownerId,
      event.pathParameters?.name ?? '',
      event.body,
      { ...deps, modelsBucket: resources.modelsBucket() },
    );
    logger.info(replayed ? 'Model version registration replayed' : 'Model version registered', {
      model: version.name,
      version: version.version,
      files: version.files.length,
      bytes: version.size,
    });
    return json(replayed ? 200 : 201, { ...modelVersionView(version), uploads });
  },
  { jsonBody: true },
);
