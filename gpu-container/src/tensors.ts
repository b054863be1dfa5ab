import { isImageInput } from '../../lib/models/manifest';
import type { FeatureInput, ModelManifest, RecordField } from '../../lib/models/manifest';
import type { ModelRecord } from '../../lib/models/record-schema';
import type { Prediction } from '../../lib/models/tensors';

/** Tensor data in the shape ONNX Runtime takes, without depending on onnxruntime itself. */
export interface TensorData {
  data: Float32Array;
  dims: number[];
}

const fieldsByName = (manifest: ModelManifest) =>
  new Map(manifest.fields.map((field) => [field.name, field]));

const columnsOf = (field: RecordField) => (field.type === 'category' ? field.values.length : 1);

const inputSpec = (manifest: ModelManifest): FeatureInput => {
  const [input] = manifest.inputs;
  if (!input) throw new Error(`Model ${manifest.name} declares no input tensor`);
  if (isImageInput(input)) throw new Error(`Model ${manifest.name} reads images, not feature columns`);
  return input;
};

/** Width of the feature tensor: one column per number, boolean, or category value. */
export const featureWidth = (manifest: ModelManifest): number => {
  const fields = fieldsByName(manifest);
  return inputSpec(manifest).features.reduce((width, { field }) => {
    const spec = fields.get(field);
    if (!spec) throw new Error(`Model ${manifest.name}: feature ${field} is not a declared field`);
    return width + columnsOf(spec);
  }, 0);
};

/** Encodes validated records into the model's input tensor, row by row in manifest order. */
export const encodeRecords = (
  manifest: ModelManifest,
  records: ModelRecord[],
): Record<string, TensorData> => {
  const input = inputSpec(manifest);
  const fields = fieldsByName(manifest);
  const width = featureWidth(manifest);
  const data = new Float32Array(records.length * width);
  records.forEach((record, row) => {
    let column = row * width;
    for (const { field } of input.features) {
      const spec = fields.get(field) as RecordField;
      const value = record[field];
      if (spec.type === 'category') {
        const hot = spec.values.indexOf(value as string);
        if (hot >= 0) data[column + hot] = 1;
        column += spec.values.length;
      } else {
        data[column] = spec.type === 'boolean' ? (value ? 1 : 0) : (value as number);
        column += 1;
      }
    }
  });
  return { [input.name]: { data, dims: [records.length, width] } };
};

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

const softmax = (values: number[]) => {
  const max = Math.max(...values);
  const exps = values.map((value) => Math.exp(value - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / sum);
};

/** Greedy CTC: the best class at each step, repeats merged, blanks (class 0) dropped. */
const ctcPrediction = (steps: Float32Array, classes: number, alphabet: readonly string[]): Prediction => {
  let text = '';
  let confidence = 0;
  let kept = 0;
  let previous = -1;
  for (let start = 0; start < steps.length; start += classes) {
    let best = 0;
    let bestScore = -Infinity;
    for (let k = 0; k < classes; k++) {
      const score = steps[start + k] as number;
      if (score > bestScore) {
        bestScore = score;
        best = k;
      }
    }
    if (best !== 0 && best !== previous) {
      text += alphabet[best - 1] ?? '';
      confidence += bestScore;
      kept++;
    }
    previous = best;
  }
  return { label: text, score: kept > 0 ? confidence / kept : 0 };
};

/**
 * Turns the model's output tensors into one prediction per record. A `ctc` model needs its
 * alphabet (the lines of its `alphabetFile`, with the space appended when `spaceLast`).
 */
export const decodePredictions = (
  manifest: ModelManifest,
  outputs: Record<string, TensorData>,
  count: number,
  alphabet: readonly string[] = [],
): Prediction[] => {
  const post = manifest.postprocess;
  const output = outputs[post.output];
  if (!output) throw new Error(`Model ${manifest.name} produced no output named ${post.output}`);
  const perRecord = output.data.length / count;
  if (post.type === 'ctc') {
    const classes = output.dims.at(-1) ?? 1;
    if (classes !== alphabet.length + 1) {
      throw new Error(
        `Model ${manifest.name} outputs ${classes} classes; its alphabet has ${alphabet.length} (+1 blank)`,
      );
    }
    return Array.from({ length: count }, (_, row) =>
      ctcPrediction(output.data.subarray(row * perRecord, (row + 1) * perRecord), classes, alphabet),
    );
  }
  const predictions: Prediction[] = [];
  const { data } = output;
  for (let row = 0; row < count; row++) {
    const at = row * perRecord;
    if (post.type === 'binary') {
      const raw = data[at] ?? Number.NaN;
      const positive = post.activation === 'sigmoid' ? sigmoid(raw) : raw;
      const [negativeLabel, positiveLabel] = post.labels;
      const label = positive >= post.threshold ? positiveLabel : negativeLabel;
      predictions.push({
        label,
        score: label === positiveLabel ? positive : 1 - positive,
        scores: { [negativeLabel]: 1 - positive, [positiveLabel]: positive },
      });
    } else {
      const values = Array.from(data.subarray(at, at + perRecord));
      const probabilities = post.activation === 'softmax' ? softmax(values) : values;
      let best = 0;
      probabilities.forEach((p, i) => {
        if (p > (probabilities[best] ?? -Infinity)) best = i;
      });
      predictions.push({
        label: post.labels[best] ?? String(best),
        score: probabilities[best] ?? Number.NaN,
        scores: Object.fromEntries(post.labels.map((label, i) => [label, probabilities[i] ?? Number.NaN])),
      });
    }
  }
  return predictions;
};
