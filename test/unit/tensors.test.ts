import churnManifest from '../../models/churn-risk/model.json';
import { modelManifestSchema } from '../../lib/models/manifest';
import { decodePredictions, encodeRecords, featureWidth } from '../../gpu-container/src/tensors';
import { findModel } from '../fixtures/shipped-manifests';

const churn = modelManifestSchema.parse(churnManifest);

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** A three-class model: two numbers in, one score per class out. */
const irisLike = modelManifestSchema.parse({
  name: 'flower-kind',
  version: '2',
  description: 'Synthetic multiclass model for tests.',
  file: 'model.onnx',
  fields: [
    { name: 'petal_length', type: 'number', description: 'cm' },
    { name: 'petal_width', type: 'number', description: 'cm' },
  ],
  inputs: [
    {
      name: 'x',
      dtype: 'float32',
      shape: ['batch', 2],
      features: [{ field: 'petal_length' }, { field: 'petal_width' }],
    },
  ],
  outputs: [{ name: 'scores', dtype: 'float32', shape: ['batch', 3] }],
  postprocess: {
    type: 'multiclass',
    output: 'scores',
    activation: 'softmax',
    labels: ['setosa', 'versicolor', 'virginica'],
  },
  example: { petal_length: 1.4, petal_width: 0.2 },
});

describe('featureWidth', () => {
  it('counts one column per number and boolean and one per category value', () => {
    expect(featureWidth(churn)).toBe(8);
    expect(churn.inputs[0]?.shape).toEqual(['batch', 8]);
  });
});

describe('encodeRecords', () => {
  it('lays out numbers, one-hot categories and booleans in manifest order', () => {
    const record = {
      tenure_months: 7,
      monthly_charges: 89.5,
      support_calls: 3,
      contract: 'one-year',
      paperless_billing: true,
      senior_citizen: false,
    };

    const tensors = encodeRecords(churn, [record]);

    expect(Object.keys(tensors)).toEqual(['features']);
    expect(tensors.features?.dims).toEqual([1, 8]);
    expect(Array.from(tensors.features?.data ?? [])).toEqual([7, 89.5, 3, 0, 1, 0, 1, 0]);
  });

  it('writes one row per record', () => {
    const records = [
      {
        tenure_months: 1,
        monthly_charges: 20,
        support_calls: 0,
        contract: 'month-to-month',
        paperless_billing: false,
        senior_citizen: true,
      },
      {
        tenure_months: 2,
        monthly_charges: 30,
        support_calls: 5,
        contract: 'two-year',
        paperless_billing: true,
        senior_citizen: true,
      },
    ];

    const tensors = encodeRecords(churn, records);

    expect(tensors.features?.dims).toEqual([2, 8]);
    expect(Array.from(tensors.features?.data ?? [])).toEqual([
      1, 20, 0, 1, 0, 0, 0, 1, 2, 30, 5, 0, 0, 1, 1, 1,
    ]);
  });

  it('ignores fields the model does not read', () => {
    const record = { ...(churn.example as Record<string, unknown>), customer_id: 'C-1' };

    const withExtra = encodeRecords(churn, [record]);
    const without = encodeRecords(churn, [churn.example as Record<string, unknown>]);

    expect(Array.from(withExtra.features?.data ?? [])).toEqual(Array.from(without.features?.data ?? []));
  });
});

describe('decodePredictions', () => {
  it('turns binary logits into probabilities with a sigmoid and labels them at the threshold', () => {
    const outputs = { churn_logit: { data: new Float32Array([2, -2, 0]), dims: [3, 1] } };

    const [high, low, even] = decodePredictions(churn, outputs, 3);

    expect(high?.label).toBe('churns');
    expect(high?.score).toBeCloseTo(sigmoid(2), 6);
    expect(high?.scores?.churns).toBeCloseTo(sigmoid(2), 6);
    expect(high?.scores?.stays).toBeCloseTo(1 - sigmoid(2), 6);
    expect(low?.label).toBe('stays');
    expect(low?.score).toBeCloseTo(1 - sigmoid(-2), 6);
    expect(even?.label).toBe('churns');
    expect(even?.score).toBeCloseTo(0.5, 6);
  });

  it('uses the manifest threshold rather than 0.5', () => {
    const strict = modelManifestSchema.parse({
      ...churnManifest,
      postprocess: { ...churnManifest.postprocess, threshold: 0.9 },
    });
    const outputs = { churn_logit: { data: new Float32Array([2]), dims: [1, 1] } };

    const [prediction] = decodePredictions(strict, outputs, 1);

    expect(prediction?.label).toBe('stays');
    expect(prediction?.score).toBeCloseTo(1 - sigmoid(2), 6);
  });

  it('applies softmax then argmax for a multiclass model', () => {
    const outputs = { scores: { data: new Float32Array([1, 2, 3, 5, 1, 1]), dims: [2, 3] } };

    const [first, second] = decodePredictions(irisLike, outputs, 2);

    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const sum = e[0]! + e[1]! + e[2]!;
    expect(first?.label).toBe('virginica');
    expect(first?.score).toBeCloseTo(e[2]! / sum, 6);
    expect(first?.scores?.setosa).toBeCloseTo(e[0]! / sum, 6);
    expect(first?.scores?.versicolor).toBeCloseTo(e[1]! / sum, 6);
    expect(second?.label).toBe('setosa');
    const secondTotal = Object.values(second?.scores ?? {}).reduce((a, b) => a + b, 0);
    expect(secondTotal).toBeCloseTo(1, 6);
  });

  it('takes multiclass scores as they are when the activation is none', () => {
    const probabilities = modelManifestSchema.parse({
      ...irisLike,
      postprocess: { ...irisLike.postprocess, activation: 'none' },
    });
    const outputs = { scores: { data: new Float32Array([0.2, 0.7, 0.1]), dims: [1, 3] } };

    const [prediction] = decodePredictions(probabilities, outputs, 1);

    expect(prediction?.label).toBe('versicolor');
    expect(prediction?.score).toBeCloseTo(0.7, 6);
  });

  it('fails with the output name when the model did not produce it', () => {
    const outputs = { something_else: { data: new Float32Array([1]), dims: [1, 1] } };

    expect(() => decodePredictions(churn, outputs, 1)).toThrow('churn_logit');
  });
});

describe('decodePredictions for a CTC recognizer', () => {
  const recognizer = modelManifestSchema.parse({
    ...findModel('text-recognition'),
    outputs: [{ name: 'probs', dtype: 'float32', shape: ['batch', 5, 4] }],
    postprocess: { type: 'ctc', output: 'probs', alphabetFile: 'keys.txt', spaceLast: true },
  });
  const alphabet = ['a', 'b', ' '];
  /** One row per time step: the probability of blank, a, b, space. */
  const steps = (...rows: number[][]) => rows.flat();

  it('keeps the best class per step, merges repeats, drops blanks, and scores the mean kept probability', () => {
    const data = new Float32Array([
      ...steps([0.9, 0.1, 0, 0], [0.2, 0.8, 0, 0], [0.4, 0.6, 0, 0], [0.7, 0.3, 0, 0], [0, 0.5, 0, 0.5]),
      ...steps([0, 0, 1, 0], [0.9, 0, 0.1, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0.7, 0.3, 0]),
    ]);

    const [first, second] = decodePredictions(recognizer, { probs: { data, dims: [2, 5, 4] } }, 2, alphabet);

    // a a (merged), blank, a (after a blank, a new a)
    expect(first?.label).toBe('aa');
    expect(first?.score).toBeCloseTo((0.8 + 0.5) / 2, 6);
    expect(first?.scores).toBeUndefined();
    expect(second?.label).toBe('bb a');
    expect(second?.score).toBeCloseTo((1 + 1 + 1 + 0.7) / 4, 6);
  });

  it('refuses an alphabet that does not match the output classes', () => {
    const data = new Float32Array(20);
    expect(() => decodePredictions(recognizer, { probs: { data, dims: [1, 5, 4] } }, 1, ['a'])).toThrow(
      /4 classes; its alphabet has 1/,
    );
  });
});
