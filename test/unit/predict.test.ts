import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createInputEncoder } from '../../gpu-container/src/model-inputs';
import { predict, warmUp } from '../../gpu-container/src/predict';
import { demoCustomers } from '../../local/demo-data';
import { findModel } from '../fixtures/shipped-manifests';

const manifest = findModel('churn-risk')!;

describe('predict', () => {
  let session: ort.InferenceSession;

  beforeAll(async () => {
    session = await ort.InferenceSession.create(join(__dirname, '../../models/churn-risk/model.onnx'));
  });

  afterAll(() => session.release());

  it('gives the same predictions for a batch padded to a fixed size as unpadded, one per record', async () => {
    const records = demoCustomers(3, 5) as unknown as Record<string, unknown>[];
    const batch = await createInputEncoder(manifest, { preprocessThreads: 0 }).encode(records);

    const plain = await predict(session, manifest, batch);
    const padded = await predict(session, manifest, batch, undefined, 8);

    expect(padded).toHaveLength(3);
    expect(padded).toEqual(plain);
  });

  it('warms a session up with a batch of zeros of the shard’s shape', async () => {
    await expect(warmUp(session, manifest, 16)).resolves.toBeUndefined();
  });
});
