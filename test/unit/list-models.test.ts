import churnManifest from '../../models/churn-risk/model.json';
import orientationManifest from '../../models/text-orientation/model.json';
import recognitionManifest from '../../models/text-recognition/model.json';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../functions/list-models';
import { answerShippedModels } from '../fixtures/models';
import { setHandlerEnv } from '../fixtures/env';
import { bodyOf, httpEvent } from '../fixtures/http-events';
import { lambdaContext } from '../fixtures/lambda-context';

interface Models {
  models: {
    name: string;
    version: string;
    description: string;
    fields: unknown[];
    prediction: { labels: string[] };
    example: Record<string, unknown>;
    shared: boolean;
    versions: { version: string; status: string }[];
    aliases: Record<string, string>;
  }[];
}

const dynamo = mockClient(DynamoDBDocumentClient);

describe('list-models handler', () => {
  beforeEach(() => {
    setHandlerEnv();
    dynamo.reset();
    answerShippedModels(dynamo);
  });

  it('lists each model with its fields, labels, a record that works as is, and its versions', async () => {
    const response = await handler(httpEvent({ method: 'GET', path: '/models' }), lambdaContext());

    expect(response.statusCode).toBe(200);
    const { models } = bodyOf<Models>(response);
    expect(models).toEqual([
      {
        name: 'churn-risk',
        version: '1',
        shared: true,
        versions: [{ version: '1', status: 'ready' }],
        aliases: { latest: '1' },
        description: churnManifest.description,
        fields: churnManifest.fields,
        prediction: { labels: ['stays', 'churns'] },
        example: churnManifest.example,
      },
      {
        name: 'text-orientation',
        version: '1',
        shared: true,
        versions: [{ version: '1', status: 'ready' }],
        aliases: { latest: '1' },
        description: orientationManifest.description,
        fields: orientationManifest.fields,
        prediction: { labels: ['0', '180'] },
        example: orientationManifest.example,
      },
      {
        name: 'text-recognition',
        version: '1',
        shared: true,
        versions: [{ version: '1', status: 'ready' }],
        aliases: { latest: '1' },
        description: recognitionManifest.description,
        fields: recognitionManifest.fields,
        // A recognizer's label is the text it read.
        prediction: { text: true },
        example: recognitionManifest.example,
      },
    ]);
  });

  it('does not show how records become tensors', async () => {
    const response = await handler(httpEvent({ method: 'GET', path: '/models' }), lambdaContext());

    expect(response.body).not.toContain('model.onnx');
    expect(response.body).not.toContain('churn_logit');
    expect(response.body).not.toContain('softmax');
    expect(response.body).not.toContain('node_modules');
  });

  it('answers 401 without an authorizer context', async () => {
    const response = await handler(
      httpEvent({ method: 'GET', path: '/models', ownerId: null }),
      lambdaContext(),
    );

    expect(response.statusCode).toBe(401);
  });
});
