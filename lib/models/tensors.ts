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
