/**
 * Small ONNX models written with onnx-proto (as models/churn-risk/train.ts writes its model), for
 * tests of models served from their signature alone: several inputs and outputs, every datatype,
 * no batch axis, a batch axis that is not the first, symbolic dimensions. Each builder returns
 * the model's bytes: `ort.InferenceSession.create(bytes)` opens them, `writeFileSync` stores them.
 */
import { onnx } from 'onnx-proto';
import type { OipDatatype } from '../../lib/models/signature';

const elemTypes: Record<OipDatatype, onnx.TensorProto.DataType> = {
  BOOL: onnx.TensorProto.DataType.BOOL,
  UINT8: onnx.TensorProto.DataType.UINT8,
  UINT16: onnx.TensorProto.DataType.UINT16,
  UINT32: onnx.TensorProto.DataType.UINT32,
  UINT64: onnx.TensorProto.DataType.UINT64,
  INT8: onnx.TensorProto.DataType.INT8,
  INT16: onnx.TensorProto.DataType.INT16,
  INT32: onnx.TensorProto.DataType.INT32,
  INT64: onnx.TensorProto.DataType.INT64,
  FP16: onnx.TensorProto.DataType.FLOAT16,
  FP32: onnx.TensorProto.DataType.FLOAT,
  FP64: onnx.TensorProto.DataType.DOUBLE,
  BYTES: onnx.TensorProto.DataType.STRING,
};

/** A graph input or output: a size, a symbol (`"batch"`), or -1 for a dynamic dimension without a name. */
export interface ValueSpec {
  name: string;
  datatype: OipDatatype;
  shape: (number | string)[];
}

export interface GraphSpec {
  name: string;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: onnx.INodeProto[];
  initializers?: onnx.ITensorProto[];
}

const valueInfo = ({ name, datatype, shape }: ValueSpec): onnx.IValueInfoProto => ({
  name,
  type: {
    tensorType: {
      elemType: elemTypes[datatype],
      shape: {
        dim: shape.map((dimension) => {
          if (typeof dimension === 'string') return { dimParam: dimension };
          return dimension < 0 ? {} : { dimValue: dimension };
        }),
      },
    },
  },
});

/** One node; its name is its first output's. */
export const node = (
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: onnx.IAttributeProto[] = [],
): onnx.INodeProto => ({ name: outputs[0], opType, input: inputs, output: outputs, attribute: attributes });

export const intAttribute = (name: string, value: number): onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INT,
  i: value,
});

/** `Cast` to a datatype. */
export const cast = (input: string, output: string, to: OipDatatype) =>
  node('Cast', [input], [output], [intAttribute('to', elemTypes[to])]);

export const int64Initializer = (name: string, dims: number[], values: number[]): onnx.ITensorProto => ({
  name,
  dims,
  dataType: onnx.TensorProto.DataType.INT64,
  int64Data: values,
});

export const floatInitializer = (name: string, dims: number[], values: number[]): onnx.ITensorProto => ({
  name,
  dims,
  dataType: onnx.TensorProto.DataType.FLOAT,
  floatData: values,
});

/** The model's bytes (opset 17, the ONNX Runtime CPU provider runs every node used here). */
export const onnxModel = (spec: GraphSpec): Uint8Array => {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'longtail/test/support/onnx-models.ts',
    graph: {
      name: spec.name,
      node: spec.nodes,
      initializer: spec.initializers ?? [],
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
    },
  });
  return onnx.ModelProto.encode(model).finish();
};

/**
 * Two inputs, two outputs, one input without a batch axis (so records run one at a time):
 * `ids` INT64 [batch, 4] and `scale` FP32 [] in; `sum` FP32 [batch] = the row's ids added up,
 * times scale, and `ids_plus_one` INT64 [batch, 4] out (the ids plus `increment`, 1 unless a test
 * wants a second version whose answers differ).
 */
export const buildTwoInputModel = (increment = 1): Uint8Array =>
  onnxModel({
    name: 'two_inputs',
    inputs: [
      { name: 'ids', datatype: 'INT64', shape: ['batch', 4] },
      { name: 'scale', datatype: 'FP32', shape: [] },
    ],
    outputs: [
      { name: 'sum', datatype: 'FP32', shape: ['batch'] },
      { name: 'ids_plus_one', datatype: 'INT64', shape: ['batch', 4] },
    ],
    nodes: [
      cast('ids', 'ids_float', 'FP32'),
      node('ReduceSum', ['ids_float', 'row_axis'], ['row_total'], [intAttribute('keepdims', 0)]),
      node('Mul', ['row_total', 'scale'], ['sum']),
      node('Add', ['ids', 'one'], ['ids_plus_one']),
    ],
    initializers: [int64Initializer('row_axis', [1], [1]), int64Initializer('one', [], [increment])],
  });

/**
 * The datatypes beyond FP32, all batched along the first axis:
 * `flags` BOOL [batch, 3] → `not_flags` BOOL (Not);
 * `counts` INT32 [batch, 2] → `counts_doubled` INT32;
 * `halves` FP16 [batch, 2] → `halves_as_float` FP32 (Cast) and `halves_doubled` FP16;
 * `words` BYTES [batch, 2] → `words_out` BYTES (Identity).
 */
export const buildTypesModel = (): Uint8Array =>
  onnxModel({
    name: 'datatypes',
    inputs: [
      { name: 'flags', datatype: 'BOOL', shape: ['batch', 3] },
      { name: 'counts', datatype: 'INT32', shape: ['batch', 2] },
      { name: 'halves', datatype: 'FP16', shape: ['batch', 2] },
      { name: 'words', datatype: 'BYTES', shape: ['batch', 2] },
    ],
    outputs: [
      { name: 'not_flags', datatype: 'BOOL', shape: ['batch', 3] },
      { name: 'counts_doubled', datatype: 'INT32', shape: ['batch', 2] },
      { name: 'halves_as_float', datatype: 'FP32', shape: ['batch', 2] },
      { name: 'halves_doubled', datatype: 'FP16', shape: ['batch', 2] },
      { name: 'words_out', datatype: 'BYTES', shape: ['batch', 2] },
    ],
    nodes: [
      node('Not', ['flags'], ['not_flags']),
      node('Add', ['counts', 'counts'], ['counts_doubled']),
      cast('halves', 'halves_as_float', 'FP32'),
      node('Add', ['halves_as_float', 'halves_as_float'], ['doubled_float']),
      cast('doubled_float', 'halves_doubled', 'FP16'),
      node('Identity', ['words'], ['words_out']),
    ],
  });

/** No batch axis at all: `x` FP32 [2, 3] → `y` FP32 [3, 2], its transpose. */
export const buildFixedShapeModel = (): Uint8Array =>
  onnxModel({
    name: 'fixed_shape',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 3] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [3, 2] }],
    nodes: [node('Transpose', ['x'], ['y'])],
  });

/**
 * The batch axis second (a model laid out feature-major): `x` FP32 [3, n] →
 * `scaled` FP32 [3, n] (row i times i + 1) and `total` FP32 [1, n] (each column added up).
 * Nothing says axis 1 is the batch axis but the signature's `batchAxis`.
 */
export const buildSecondAxisBatchModel = (): Uint8Array =>
  onnxModel({
    name: 'second_axis_batch',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 'n'] }],
    outputs: [
      { name: 'scaled', datatype: 'FP32', shape: [3, 'n'] },
      { name: 'total', datatype: 'FP32', shape: [1, 'n'] },
    ],
    nodes: [
      node('Mul', ['x', 'row_weights'], ['scaled']),
      node('ReduceSum', ['x', 'column_axis'], ['total'], [intAttribute('keepdims', 1)]),
    ],
    initializers: [
      floatInitializer('row_weights', [3, 1], [1, 2, 3]),
      int64Initializer('column_axis', [1], [0]),
    ],
  });

/**
 * A symbolic dimension besides the batch: `tokens` INT64 [batch, seq] and `mask` BOOL
 * [batch, seq] → `total` FP32 [batch], the sum of the tokens the mask keeps. Records of
 * different lengths cannot share a call.
 */
export const buildVariableLengthModel = (): Uint8Array =>
  onnxModel({
    name: 'variable_length',
    inputs: [
      { name: 'tokens', datatype: 'INT64', shape: ['batch', 'seq'] },
      { name: 'mask', datatype: 'BOOL', shape: ['batch', 'seq'] },
    ],
    outputs: [{ name: 'total', datatype: 'FP32', shape: ['batch'] }],
    nodes: [
      cast('tokens', 'tokens_float', 'FP32'),
      cast('mask', 'mask_float', 'FP32'),
      node('Mul', ['tokens_float', 'mask_float'], ['kept']),
      node('ReduceSum', ['kept', 'seq_axis'], ['total'], [intAttribute('keepdims', 0)]),
    ],
    initializers: [int64Initializer('seq_axis', [1], [1])],
  });

/**
 * One Identity per datatype: input `x_<datatype>` [batch, 2] → output `y_<datatype>`, each
 * dimension after the batch left unnamed (-1), to round-trip every datatype through ONNX Runtime.
 */
export const buildIdentityModel = (datatypes: readonly OipDatatype[]): Uint8Array =>
  onnxModel({
    name: 'identities',
    inputs: datatypes.map((datatype) => ({ name: `x_${datatype}`, datatype, shape: ['batch', -1] })),
    outputs: datatypes.map((datatype) => ({ name: `y_${datatype}`, datatype, shape: ['batch', -1] })),
    nodes: datatypes.map((datatype) => node('Identity', [`x_${datatype}`], [`y_${datatype}`])),
  });

/**
 * A model whose weights live in an external-data file beside it, as models over 2 GB must:
 * `x` FP32 [batch, 4] → `y` = x · W, W a 4×4 matrix (row i holds i + 1) stored in `weightsFile`.
 * `paddingBytes` after the weights make the file as large as a test needs (ONNX Runtime reads only
 * the offset and length the graph names).
 */
export const buildExternalDataModel = (weightsFile = 'weights.bin', paddingBytes = 0) => {
  const weights = Float32Array.from({ length: 16 }, (_, i) => Math.floor(i / 4) + 1);
  const weightBytes = Buffer.from(weights.buffer);
  const model = onnxModel({
    name: 'external_data',
    inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', 4] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', 4] }],
    nodes: [node('MatMul', ['x', 'W'], ['y'])],
    initializers: [
      {
        name: 'W',
        dims: [4, 4],
        dataType: onnx.TensorProto.DataType.FLOAT,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: weightsFile },
          { key: 'offset', value: '0' },
          { key: 'length', value: String(weightBytes.length) },
        ],
      },
    ],
  });
  return { model, weights: Buffer.concat([weightBytes, Buffer.alloc(paddingBytes)]) };
};
