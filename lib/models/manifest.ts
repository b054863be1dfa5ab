import { z } from 'zod';

/**
 * A model manifest (`models/<name>/model.json`) says everything the API and the worker need to
 * know about a model without opening the ONNX file: the record fields a caller sends, how they
 * become tensors, and how output tensors become a prediction.
 */

const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a field name is an identifier');

export const recordFieldSchema = z.discriminatedUnion('type', [
  z.object({
    name: fieldName,
    type: z.literal('number'),
    description: z.string(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
  }),
  z.object({
    name: fieldName,
    type: z.literal('integer'),
    description: z.string(),
    minimum: z.number().int().optional(),
    maximum: z.number().int().optional(),
  }),
  z.object({
    name: fieldName,
    type: z.literal('boolean'),
    description: z.string(),
  }),
  z.object({
    name: fieldName,
    type: z.literal('category'),
    description: z.string(),
    values: z.array(z.string()).min(2),
  }),
]);
export type RecordField = z.infer<typeof recordFieldSchema>;

/**
 * One column block of a feature tensor, in order: a number or integer field is one column,
 * a boolean field one column (0 or 1), a category field one column per value (one-hot, in the
 * order of the field's `values`).
 */
export const featureSchema = z.object({ field: fieldName });

export const tensorInputSchema = z.object({
  name: z.string(),
  dtype: z.literal('float32'),
  /** `"batch"` marks the dynamic batch dimension. */
  shape: z.array(z.union([z.literal('batch'), z.number().int().positive()])),
  features: z.array(featureSchema).min(1),
});

export const tensorOutputSchema = z.object({
  name: z.string(),
  dtype: z.literal('float32'),
  shape: z.array(z.union([z.literal('batch'), z.number().int().positive()])),
});

export const postprocessSchema = z.discriminatedUnion('type', [
  /** One logit per record; sigmoid gives the probability of `labels[1]`. */
  z.object({
    type: z.literal('binary'),
    output: z.string(),
    activation: z.enum(['sigmoid', 'none']),
    labels: z.tuple([z.string(), z.string()]),
    threshold: z.number().min(0).max(1).default(0.5),
  }),
  /** One score per class; softmax (or none, when the graph already outputs probabilities) then argmax. */
  z.object({
    type: z.literal('multiclass'),
    output: z.string(),
    activation: z.enum(['softmax', 'none']),
    labels: z.array(z.string()).min(2),
  }),
]);
export type Postprocess = z.infer<typeof postprocessSchema>;

export const modelManifestSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  version: z.string(),
  description: z.string(),
  /** The ONNX file, relative to the manifest's folder. */
  file: z.string(),
  fields: z.array(recordFieldSchema).min(1),
  inputs: z.array(tensorInputSchema).length(1),
  outputs: z.array(tensorOutputSchema).min(1),
  postprocess: postprocessSchema,
  /** A record that `POST /jobs` accepts as is; shown by `GET /models`. */
  example: z.record(z.string(), z.unknown()),
  /** Job options for files dropped in `drop/<model>/` (a sidecar overrides them). */
  dropOptions: z.record(z.string(), z.unknown()).optional(),
});
export type ModelManifest = z.infer<typeof modelManifestSchema>;
