import { listModels } from '../lib/models/registry';
import { httpHandler, json, ownerOf } from './middleware';

/** GET /models: what a caller can run, the fields each takes, and a record that works as is. */
export const handler = httpHandler(async (event) => {
  ownerOf(event);
  return json(200, {
    models: listModels().map((model) => ({
      name: model.name,
      version: model.version,
      description: model.description,
      fields: model.fields,
      prediction: model.postprocess.type === 'ctc' ? { text: true } : { labels: model.postprocess.labels },
      example: model.example,
    })),
  });
});
