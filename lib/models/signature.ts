import { z } from 'zod';
import { InvalidInput } from '../errors';

/**
 * A model's signature: its input and output tensors as the ONNX graph declares them. A model
 * registered without a manifest is served from its signature alone, as tensors, in the Open
 * Inference Protocol (KServe / Triton "V2"), so these names and datatypes are the protocol's.
 */

export const oipDatatypes = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type OipDatatype = (typeof oipDatatypes)[number];

/**
 * ONNX Runtime's name for each protocol datatype, and back. ORT's `int4`/`uint4` have no protocol
 * datatype, so a model using them is refused.
 */
export const ortTypeOf = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
} as const satisfies Record<OipDatatype, string>;
export type OrtTensorType = (typeof ortTypeOf)[OipDatatype];

const datatypeByOrtType = new Map<string, OipDatatype>(
  oipDatatypes.map((datatype) => [ortTypeOf[datatype], datatype]),
);

/** The protocol datatype of an ORT tensor type, or undefined for one the protocol lacks. */
export const datatypeOfOrt = (type: string): OipDatatype | undefined => datatypeByOrtType.get(type);

/**
 * One dimension: a size, -1 for a dynamic one without a name, or a symbol (`"batch"`) for a
 * dynamic one with a name. A symbol that appears twice means the same size in both places.
 */
export type Dimension = number | string;

export const isDynamic = (dimension: Dimension): boolean => typeof dimension === 'string' || dimension < 0;

/**
 * Names that would reach Object.prototype where a record or result is an object keyed by tensor
 * name: refused, so that such objects can be plain objects.
 */
export const reservedTensorNames: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export const tensorSpecSchema = z.object({
  name: z
    .string()
    .min(1)
    .refine((name) => !reservedTensorNames.has(name), 'this name is reserved'),
  datatype: z.enum(oipDatatypes),
  shape: z.array(z.union([z.number().int().min(-1), z.string().min(1)])),
});
export type TensorSpec = z.infer<typeof tensorSpecSchema>;

/** Where the batch axis is unusable: a tensor too short for it, or of a fixed size along it. */
const batchAxisProblems = (specs: TensorSpec[], axis: number): string[] =>
  specs.flatMap((spec) => {
    const dimension = spec.shape[axis];
    if (dimension === undefined) {
      return [`${spec.name} has no axis ${axis} (shape ${formatShape(spec.shape)})`];
    }
    if (!isDynamic(dimension)) return [`${spec.name} has a fixed size ${dimension} along axis ${axis}`];
    return [];
  });

export const modelSignatureSchema = z
  .object({
    inputs: z.array(tensorSpecSchema).min(1),
    outputs: z.array(tensorSpecSchema).min(1),
    /**
     * The axis along which records are batched into one ONNX Runtime call: set when the graph's
     * batch axis is not the first, null when records must run one at a time, unset to infer it
     * (see batchAxisOf).
     */
    batchAxis: z.number().int().min(0).nullable().optional(),
  })
  .superRefine((signature, context) => {
    for (const list of ['inputs', 'outputs'] as const) {
      const seen = new Set<string>();
      signature[list].forEach((spec, index) => {
        if (seen.has(spec.name)) {
          context.addIssue({
            code: 'custom',
            path: [list, index, 'name'],
            message: `${spec.name} appears twice`,
          });
        }
        seen.add(spec.name);
      });
    }
    const axis = signature.batchAxis;
    if (axis === undefined || axis === null) return;
    // Every input and output must carry the axis: results are split back per record along it.
    for (const problem of batchAxisProblems([...signature.inputs, ...signature.outputs], axis)) {
      context.addIssue({ code: 'custom', path: ['batchAxis'], message: `batch axis ${axis}: ${problem}` });
    }
  });
export type ModelSignature = z.infer<typeof modelSignatureSchema>;

/** A model whose graph cannot be served as tensors. */
export class UnsupportedModel extends InvalidInput {
  override name = 'UnsupportedModel';
  constructor(message: string) {
    super('UNSUPPORTED_MODEL', message);
  }
}

/** What ONNX Runtime says of one input or output (`session.inputMetadata`), without importing it. */
export type OrtValueMetadata =
  | { readonly name: string; readonly isTensor: false }
  | {
      readonly name: string;
      readonly isTensor: true;
      readonly type: string;
      readonly shape: ReadonlyArray<number | string>;
    };

const specOfOrt = (kind: 'input' | 'output', value: OrtValueMetadata): TensorSpec => {
  if (!value.isTensor) {
    throw new UnsupportedModel(
      `The model's ${kind} "${value.name}" is not a tensor (a sequence or a map): only tensors can be served.`,
    );
  }
  const datatype = datatypeOfOrt(value.type);
  if (!datatype) {
    throw new UnsupportedModel(
      `The model's ${kind} "${value.name}" has element type ${value.type}, which the Open Inference Protocol cannot carry.`,
    );
  }
  // ORT reports an unnamed dynamic dimension as -1 (or as an empty symbol): keep it as -1.
  const shape = value.shape.map((dimension) => (dimension === '' ? -1 : dimension));
  return { name: value.name, datatype, shape };
};

/** The signature of an ONNX graph, from ORT's `session.inputMetadata` and `session.outputMetadata`. */
export const signatureFromOrt = (
  inputMetadata: readonly OrtValueMetadata[],
  outputMetadata: readonly OrtValueMetadata[],
): ModelSignature => {
  const parsed = modelSignatureSchema.safeParse({
    inputs: inputMetadata.map((value) => specOfOrt('input', value)),
    outputs: outputMetadata.map((value) => specOfOrt('output', value)),
  });
  if (!parsed.success) {
    throw new UnsupportedModel(
      `The model's graph cannot be served as tensors: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  }
  return parsed.data;
};

/**
 * The axis records are batched along, or null when they run one at a time. An explicit
 * `batchAxis` wins (null included). Otherwise the first axis, when every input and output
 * starts with a dynamic dimension, as exported models with a batch dimension do; an output is
 * checked too because each record's rows are cut back out of it. Anything else (an input with a
 * fixed first dimension, a rank-0 input) runs records one at a time, which is always correct.
 */
export const batchAxisOf = (signature: ModelSignature): number | null => {
  if (signature.batchAxis !== undefined) return signature.batchAxis;
  const specs = [...signature.inputs, ...signature.outputs];
  return batchAxisProblems(specs, 0).length === 0 ? 0 : null;
};

/** A shape as a record of one row writes it, or a result answers it: without the batch axis, if any. */
export const withoutAxis = <T>(shape: readonly T[], axis: number | null): T[] =>
  axis === null ? [...shape] : shape.filter((_, i) => i !== axis);

/** `[batch, 16]`, as messages write a shape. */
export const formatShape = (shape: readonly Dimension[]): string => `[${shape.join(', ')}]`;

export interface OipTensorMetadata {
  name: string;
  datatype: OipDatatype;
  shape: number[];
}

/** The body of `GET /v2/models/{name}[/versions/{version}]`. */
export interface OipModelMetadata {
  name: string;
  versions: string[];
  platform: 'onnxruntime_onnx';
  inputs: OipTensorMetadata[];
  outputs: OipTensorMetadata[];
}

/** The protocol writes every dynamic dimension, named or not, as -1. */
const oipTensorMetadata = (spec: TensorSpec): OipTensorMetadata => ({
  name: spec.name,
  datatype: spec.datatype,
  shape: spec.shape.map((dimension) => (typeof dimension === 'number' && dimension >= 0 ? dimension : -1)),
});

/** The model metadata response of the Open Inference Protocol, as Triton answers for an ONNX model. */
export const oipMetadataOf = (
  name: string,
  versions: string[],
  signature: ModelSignature,
): OipModelMetadata => ({
  name,
  versions,
  platform: 'onnxruntime_onnx',
  inputs: signature.inputs.map(oipTensorMetadata),
  outputs: signature.outputs.map(oipTensorMetadata),
});
