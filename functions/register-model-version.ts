import { logger } from '../lib/logger';
import { registerModelVersion } from '../lib/use-cases/register-model';
import { modelVersionView } from '../lib/domain/model-view';
import { httpHandler, json, ownerOf } from './middleware';
import { awsRegisterModelDeps } from './model-deps';

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
      awsRegisterModelDeps(),
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
