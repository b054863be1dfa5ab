import {
  UnsupportedModel,
  batchAxisOf,
  datatypeOfOrt,
  modelSignatureSchema,
  oipDatatypes,
  oipMetadataOf,
  ortTypeOf,
  signatureFromOrt,
} from '../../lib/models/signature';
import type { ModelSignature, OrtValueMetadata } from '../../lib/models/signature';
import { httpStatusOf } from '../../lib/errors';

const tensor = (name: string, type: string, shape: (number | string)[]): OrtValueMetadata => ({
  name,
  isTensor: true,
  type,
  shape,
});

/** What ORT reports for a two-input model: one input with a batch axis, one rank-0 input. */
const twoInputMetadata = {
  inputs: [tensor('ids', 'int64', ['batch', 4]), tensor('scale', 'float32', [])],
  outputs: [tensor('sum', 'float32', ['batch']), tensor('ids_plus_one', 'int64', ['batch', 4])],
};

const signature = (
  inputs: ModelSignature['inputs'],
  outputs: ModelSignature['outputs'],
  batchAxis?: number | null,
) => modelSignatureSchema.parse({ inputs, outputs, ...(batchAxis !== undefined ? { batchAxis } : {}) });

describe('signatureFromOrt', () => {
  it("maps ORT's names, element types and shapes to the protocol's", () => {
    const result = signatureFromOrt(twoInputMetadata.inputs, twoInputMetadata.outputs);

    expect(result).toEqual({
      inputs: [
        { name: 'ids', datatype: 'INT64', shape: ['batch', 4] },
        { name: 'scale', datatype: 'FP32', shape: [] },
      ],
      outputs: [
        { name: 'sum', datatype: 'FP32', shape: ['batch'] },
        { name: 'ids_plus_one', datatype: 'INT64', shape: ['batch', 4] },
      ],
    });
  });

  it('maps every element type the protocol carries, strings to BYTES and bool to BOOL', () => {
    const inputs = [
      tensor('b', 'bool', [1]),
      tensor('s', 'string', [1]),
      tensor('h', 'float16', [1]),
      tensor('d', 'float64', [1]),
      tensor('u', 'uint64', [1]),
      tensor('i', 'int8', [1]),
    ];

    const result = signatureFromOrt(inputs, [tensor('y', 'float32', [1])]);

    expect(result.inputs.map((spec) => spec.datatype)).toEqual([
      'BOOL',
      'BYTES',
      'FP16',
      'FP64',
      'UINT64',
      'INT8',
    ]);
  });

  it('keeps an unnamed dynamic dimension, which ORT reports as an empty symbol, as -1', () => {
    const result = signatureFromOrt([tensor('x', 'float32', ['batch', ''])], [tensor('y', 'float32', [-1])]);

    expect(result.inputs[0]?.shape).toEqual(['batch', -1]);
    expect(result.outputs[0]?.shape).toEqual([-1]);
  });

  it('refuses a model whose input is a sequence, naming it', () => {
    const act = () => signatureFromOrt([{ name: 'tokens', isTensor: false }], [tensor('y', 'float32', [1])]);

    expect(act).toThrow(UnsupportedModel);
    expect(act).toThrow('input "tokens" is not a tensor');
  });

  it('refuses an element type the protocol cannot carry', () => {
    const act = () => signatureFromOrt([tensor('x', 'float32', [1])], [tensor('packed', 'int4', [8])]);

    expect(act).toThrow('output "packed" has element type int4');
  });

  it('refuses a tensor named like an Object.prototype key', () => {
    const act = () => signatureFromOrt([tensor('__proto__', 'float32', [1])], [tensor('y', 'float32', [1])]);

    expect(act).toThrow(/inputs\.0\.name: this name is reserved/);
  });

  it('answers as a client mistake (400) with a stable code', () => {
    const error = new UnsupportedModel('no');

    expect(error).toMatchObject({ name: 'UnsupportedModel', code: 'UNSUPPORTED_MODEL' });
    expect(httpStatusOf(error)).toBe(400);
  });
});

describe('ortTypeOf and datatypeOfOrt', () => {
  it('map each of the 13 protocol datatypes to an ORT type and back', () => {
    const roundTrip = oipDatatypes.map((datatype) => datatypeOfOrt(ortTypeOf[datatype]));

    expect(roundTrip).toEqual([...oipDatatypes]);
    expect(datatypeOfOrt('int4')).toBeUndefined();
  });
});

describe('modelSignatureSchema', () => {
  it('refuses two inputs of the same name', () => {
    const result = modelSignatureSchema.safeParse({
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [1] },
        { name: 'x', datatype: 'FP32', shape: [1] },
      ],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
    });

    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('x appears twice');
  });

  it('refuses a batch axis that an input lacks or holds at a fixed size', () => {
    const result = modelSignatureSchema.safeParse({
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [3, 'n'] },
        { name: 'k', datatype: 'INT64', shape: [2] },
        { name: 'f', datatype: 'FP32', shape: [3, 5] },
      ],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 'n'] }],
      batchAxis: 1,
    });

    expect(result.error?.issues.map((issue) => issue.message)).toEqual([
      'batch axis 1: k has no axis 1 (shape [2])',
      'batch axis 1: f has a fixed size 5 along axis 1',
    ]);
  });

  it('refuses a datatype outside the protocol', () => {
    const result = modelSignatureSchema.safeParse({
      inputs: [{ name: 'x', datatype: 'FLOAT', shape: [1] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
    });

    expect(result.success).toBe(false);
  });

  it('reads back what it stored (as the registry keeps it in DynamoDB)', () => {
    const stored = signature(
      [{ name: 'x', datatype: 'FP32', shape: [3, 'n'] }],
      [{ name: 'y', datatype: 'FP32', shape: [1, 'n'] }],
      1,
    );

    expect(modelSignatureSchema.parse(JSON.parse(JSON.stringify(stored)))).toEqual(stored);
  });
});

describe('batchAxisOf', () => {
  it('batches along the first axis when every input and output starts with a dynamic dimension', () => {
    const spec = signature(
      [
        { name: 'ids', datatype: 'INT64', shape: ['batch', 16] },
        { name: 'mask', datatype: 'BOOL', shape: [-1, 16] },
      ],
      [{ name: 'y', datatype: 'FP32', shape: ['batch'] }],
    );

    expect(batchAxisOf(spec)).toBe(0);
  });

  it('runs records one at a time when an input has no batch axis (a rank-0 input)', () => {
    const spec = signatureFromOrt(twoInputMetadata.inputs, twoInputMetadata.outputs);

    expect(batchAxisOf(spec)).toBeNull();
  });

  it('runs records one at a time when an input has a fixed first dimension', () => {
    const spec = signature(
      [{ name: 'x', datatype: 'FP32', shape: [2, 3] }],
      [{ name: 'y', datatype: 'FP32', shape: [3, 2] }],
    );

    expect(batchAxisOf(spec)).toBeNull();
  });

  it('runs records one at a time when an output has no known shape to cut rows from', () => {
    const spec = signature(
      [{ name: 'x', datatype: 'FP32', shape: ['batch', 3] }],
      [{ name: 'y', datatype: 'FP32', shape: [] }],
    );

    expect(batchAxisOf(spec)).toBeNull();
  });

  it('takes an explicit batch axis over the inferred one, null included', () => {
    const inputs: ModelSignature['inputs'] = [{ name: 'x', datatype: 'FP32', shape: ['batch', 'n'] }];
    const outputs: ModelSignature['outputs'] = [{ name: 'y', datatype: 'FP32', shape: ['batch', 'n'] }];

    expect(batchAxisOf(signature(inputs, outputs, 1))).toBe(1);
    expect(batchAxisOf(signature(inputs, outputs, null))).toBeNull();
    expect(batchAxisOf(signature(inputs, outputs))).toBe(0);
  });
});

describe('oipMetadataOf', () => {
  it("answers the protocol's model metadata, every dynamic dimension as -1", () => {
    const spec = signatureFromOrt(twoInputMetadata.inputs, twoInputMetadata.outputs);

    const metadata = oipMetadataOf('adder', ['1', '2'], spec);

    expect(metadata).toEqual({
      name: 'adder',
      versions: ['1', '2'],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'ids', datatype: 'INT64', shape: [-1, 4] },
        { name: 'scale', datatype: 'FP32', shape: [] },
      ],
      outputs: [
        { name: 'sum', datatype: 'FP32', shape: [-1] },
        { name: 'ids_plus_one', datatype: 'INT64', shape: [-1, 4] },
      ],
    });
  });
});
