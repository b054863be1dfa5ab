/**
 * What a model made of one record. In lib, not beside the worker's tensor decoding
 * (gpu-container/src/tensors.ts), because lib/transform's output filter, which createJob compiles
 * too, joins it with the record.
 */
export interface Prediction {
  /** The class, or the text a recognizer read. */
  label: string;
  /** The probability (or score) of `label`. */
  score: number;
  /** Every class's probability, for classifiers. */
  scores?: Record<string, number>;
}

/**
 * A tensor model's answer for one record: its Open Inference Protocol response, or the compact
 * object keyed by output name (gpu-container/src/tensor-batch.ts).
 */
export type TensorOutputs = { readonly [name: string]: unknown };

/** What inference made of one record: a manifest model's prediction, or a tensor model's outputs. */
export type ModelOutput = Prediction | TensorOutputs;

export const isPrediction = (output: ModelOutput): output is Prediction =>
  typeof output.label === 'string' && typeof output.score === 'number';
