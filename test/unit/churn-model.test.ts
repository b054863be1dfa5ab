import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { modelManifestSchema, type FeatureInput, type ModelManifest } from '../../lib/models/manifest';

const MODEL_DIR = path.join(__dirname, '..', '..', 'models', 'churn-risk');

type ChurnRecord = Record<string, string | number | boolean>;

const highRisk: ChurnRecord = {
  tenure_months: 1,
  monthly_charges: 110,
  support_calls: 8,
  contract: 'month-to-month',
  paperless_billing: true,
  senior_citizen: false,
};

const loyal: ChurnRecord = {
  tenure_months: 70,
  monthly_charges: 25,
  support_calls: 0,
  contract: 'two-year',
  paperless_billing: false,
  senior_citizen: false,
};

const middling: ChurnRecord = {
  tenure_months: 24,
  monthly_charges: 70.35,
  support_calls: 2,
  contract: 'one-year',
  paperless_billing: true,
  senior_citizen: true,
};

function loadManifest(): ModelManifest {
  return modelManifestSchema.parse(JSON.parse(readFileSync(path.join(MODEL_DIR, 'model.json'), 'utf8')));
}

/**
 * Encodes records the way the manifest describes, independently of train.ts, so the test catches a
 * manifest that disagrees with how the model was trained.
 */
function encode(manifest: ModelManifest, records: ChurnRecord[]): ort.Tensor {
  const input = manifest.inputs[0] as FeatureInput;
  const fields = new Map(manifest.fields.map((f) => [f.name, f]));
  const columns = (record: ChurnRecord): number[] =>
    input.features.flatMap(({ field: name }) => {
      const field = fields.get(name)!;
      const value = record[name];
      switch (field.type) {
        case 'category':
          return field.values.map((v) => (v === value ? 1 : 0));
        case 'boolean':
          return [value ? 1 : 0];
        default:
          return [Number(value)];
      }
    });
  const rows = records.map(columns);
  const width = rows[0]!.length;
  return new ort.Tensor('float32', Float32Array.from(rows.flat()), [records.length, width]);
}

describe('churn-risk model', () => {
  let manifest: ModelManifest;
  let session: ort.InferenceSession;

  const logitsFor = async (
    records: ChurnRecord[],
  ): Promise<{ dims: readonly number[]; values: number[] }> => {
    const result = await session.run({ [manifest.inputs[0]!.name]: encode(manifest, records) });
    const output = result[manifest.outputs[0]!.name]!;
    return { dims: output.dims, values: Array.from(output.data as Float32Array) };
  };

  beforeAll(async () => {
    manifest = loadManifest();
    session = await ort.InferenceSession.create(path.join(MODEL_DIR, manifest.file), {
      executionProviders: ['cpu'],
    });
  });

  afterAll(async () => {
    await session?.release();
  });

  it('has a manifest that passes the manifest schema', () => {
    // Arrange
    const raw: unknown = JSON.parse(readFileSync(path.join(MODEL_DIR, 'model.json'), 'utf8'));

    // Act
    const result = modelManifestSchema.safeParse(raw);

    // Assert
    expect(result.success).toBe(true);
    expect(result.data?.name).toBe('churn-risk');
    expect(result.data?.postprocess).toMatchObject({ type: 'binary', output: 'churn_logit' });
  });

  it('accepts the input and output names the manifest declares', () => {
    // Arrange
    const declaredInputs = manifest.inputs.map((i) => i.name);
    const declaredOutputs = manifest.outputs.map((o) => o.name);

    // Act
    const { inputNames, outputNames } = session;

    // Assert
    expect(inputNames).toEqual(declaredInputs);
    expect(outputNames).toEqual(declaredOutputs);
  });

  it('encodes a record to as many columns as the declared input width', () => {
    // Arrange
    const declaredWidth = manifest.inputs[0]!.shape[1];

    // Act
    const tensor = encode(manifest, [manifest.example as ChurnRecord]);

    // Assert
    expect(tensor.dims).toEqual([1, declaredWidth]);
  });

  it('returns one finite logit per record for a batch', async () => {
    // Arrange
    const records = [highRisk, loyal, middling, manifest.example as ChurnRecord];

    // Act
    const logits = await logitsFor(records);

    // Assert
    expect(logits.dims).toEqual([records.length, 1]);
    expect(logits.values).toHaveLength(records.length);
    expect(logits.values.every(Number.isFinite)).toBe(true);
  });

  it('scores an obviously high-risk customer above an obviously loyal one', async () => {
    // Arrange
    const records = [highRisk, loyal];

    // Act
    const {
      values: [highRiskLogit, loyalLogit],
    } = await logitsFor(records);

    // Assert
    expect(highRiskLogit).toBeGreaterThan(loyalLogit!);
    expect(highRiskLogit).toBeGreaterThan(0); // sigmoid > 0.5: predicted to churn
    expect(loyalLogit).toBeLessThan(0); // sigmoid < 0.5: predicted to stay
  });
});
