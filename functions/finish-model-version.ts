import { logger } from '../lib/logger';
import { modelVersionView } from '../lib/domain/model-view';
import { finishModelVersion } from '../lib/use-cases/register-model';
import { httpHandler, json, ownerOf } from './middleware';
import { awsRegisterModelDeps } from './model-deps';

/** POST /models/{name}/versions/{version}/finish: the files are uploaded; check the version. */
export const handler = httpHandler(
  async (event) => {
    const version = await finishModelVersion(
      ownerOf(event),
      event.pathParameters?.name ?? '',
      event.pathParameters?.version ?? '',
      event.body,
      awsRegisterModelDeps(),
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
