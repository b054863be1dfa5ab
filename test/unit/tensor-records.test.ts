import { describeIssues } from '../../lib/models/record-schema';
import { modelSignatureSchema } from '../../lib/models/signature';
import type { ModelSignature, OipDatatype, TensorSpec } from '../../lib/models/signature';
import { checkTensorRecord } from '../../lib/models/tensor-records';
import type { TensorRecordCheck } from '../../lib/models/tensor-records';

const signature = (inputs: TensorSpec[], outputs: TensorSpec[], batchAxis?: number | null): ModelSignature =>
  modelSignatureSchema.parse({ inputs, outputs, ...(batchAxis !== undefined ? { batchAxis } : {}) });

/** `scale` has no batch axis, so records run one at a time and keep their full shapes. */
const twoInputs = signature(
  [
    { name: 'ids', datatype: 'INT64', shape: ['batch', 4] },
    { name: 'scale', datatype: 'FP32', shape: [] },
  ],
  [{ name: 'sum', datatype: 'FP32', shape: ['batch'] }],
);

/** Batched along the first axis; `weights` has an unnamed dynamic batch dimension. */
const batched = signature(
  [
    { name: 'ids', datatype: 'INT64', shape: ['batch', 4] },
    { name: 'weights', datatype: 'FP32', shape: [-1, 4] },
  ],
  [
    { name: 'score', datatype: 'FP32', shape: ['batch'] },
    { name: 'label', datatype: 'BYTES', shape: ['batch'] },
  ],
);

const variableLength = signature(
  [
    { name: 'tokens', datatype: 'INT64', shape: ['batch', 'seq'] },
    { name: 'mask', datatype: 'BOOL', shape: ['batch', 'seq'] },
  ],
  [{ name: 'total', datatype: 'FP32', shape: ['batch'] }],
);

const secondAxis = signature(
  [{ name: 'x', datatype: 'FP32', shape: [3, 'n'] }],
  [{ name: 'total', datatype: 'FP32', shape: [1, 'n'] }],
  1,
);

/** One input `x` [batch, 2] of the datatype. */
const single = (datatype: OipDatatype) =>
  signature([{ name: 'x', datatype, shape: ['batch', 2] }], [{ name: 'y', datatype, shape: ['batch', 2] }]);

const recordOf = (check: TensorRecordCheck) => {
  if (!check.ok) throw new Error(`expected a valid record: ${describeIssues(check.issues)}`);
  return check.record;
};

const issuesOf = (check: TensorRecordCheck) => (check.ok ? [] : check.issues);

describe('checkTensorRecord, inference requests (Open Inference Protocol)', () => {
  it('reads flat row-major data in its shape, keeps the id, and INT64 as bigint', () => {
    const request = {
      id: 'r-1',
      inputs: [
        { name: 'ids', shape: [2, 4], datatype: 'INT64', data: [1, 2, 3, 4, 5, 6, 7, 8] },
        { name: 'scale', shape: [], datatype: 'FP32', data: [0.5] },
      ],
    };

    const record = recordOf(checkTensorRecord(twoInputs, request));

    expect(record).toEqual({
      id: 'r-1',
      form: 'oip',
      rows: 1,
      inputs: {
        ids: { shape: [2, 4], values: [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n] },
        scale: { shape: [], values: [0.5] },
      },
    });
  });

  it('reads nested data and counts its rows along the batch axis', () => {
    const request = {
      inputs: [
        {
          name: 'ids',
          shape: [3, 4],
          datatype: 'INT64',
          data: [
            [1, 2, 3, 4],
            [5, 6, 7, 8],
            ['9', 10, 11, 12],
          ],
        },
        { name: 'weights', shape: [3, 4], datatype: 'FP32', data: [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2] },
      ],
    };

    const record = recordOf(checkTensorRecord(batched, request));

    expect(record.rows).toBe(3);
    expect(record.id).toBeUndefined();
    expect(record.inputs.ids?.values).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n, 12n]);
    expect(record.inputs.weights?.shape).toEqual([3, 4]);
  });

  it('takes a rank-0 input as a one-element list or as the bare value, and a missing datatype', () => {
    const request = (scale: unknown) => ({
      inputs: [
        { name: 'ids', shape: [1, 4], data: [1, 2, 3, 4] },
        { name: 'scale', shape: [], data: scale },
      ],
    });

    expect(recordOf(checkTensorRecord(twoInputs, request([2]))).inputs.scale).toEqual({
      shape: [],
      values: [2],
    });
    expect(recordOf(checkTensorRecord(twoInputs, request(2))).inputs.scale).toEqual({
      shape: [],
      values: [2],
    });
  });

  it('keeps the outputs a request asks for, and refuses one the model lacks', () => {
    const valid = {
      inputs: [
        { name: 'ids', shape: [1, 4], datatype: 'INT64', data: [1, 2, 3, 4] },
        { name: 'weights', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] },
      ],
      outputs: [{ name: 'label' }],
    };

    expect(recordOf(checkTensorRecord(batched, valid)).outputs).toEqual(['label']);
    expect(issuesOf(checkTensorRecord(batched, { ...valid, outputs: [{ name: 'logits' }] }))).toEqual([
      { field: 'outputs[0]', message: '"logits" is not an output of this model (its outputs: score, label)' },
    ]);
  });

  it('names the input, its expected shape and datatype when the shape is wrong', () => {
    const request = {
      inputs: [
        { name: 'ids', shape: [3], datatype: 'INT64', data: [1, 2, 3] },
        { name: 'scale', shape: [], datatype: 'FP32', data: [1] },
      ],
    };

    const check = checkTensorRecord(twoInputs, request);

    expect(issuesOf(check)).toEqual([
      { field: 'inputs.ids', message: 'expected shape [batch, 4] (INT64), got [3]' },
    ]);
    expect(describeIssues(issuesOf(check))).toBe('inputs.ids: expected shape [batch, 4] (INT64), got [3]');
  });

  it('refuses a datatype other than the input’s', () => {
    const request = {
      inputs: [
        { name: 'ids', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
        { name: 'scale', shape: [], datatype: 'FP32', data: [1] },
      ],
    };

    expect(issuesOf(checkTensorRecord(twoInputs, request))).toEqual([
      { field: 'inputs.ids', message: 'expected datatype INT64, got FP32' },
    ]);
  });

  it('refuses flat data of another length than its shape holds, and nesting other than its shape', () => {
    const request = (ids: unknown) => ({
      inputs: [
        { name: 'ids', shape: [2, 4], datatype: 'INT64', data: ids },
        { name: 'scale', shape: [], datatype: 'FP32', data: [1] },
      ],
    });

    expect(issuesOf(checkTensorRecord(twoInputs, request([1, 2, 3, 4, 5, 6, 7])))).toEqual([
      {
        field: 'inputs.ids',
        message: '"data" has 7 elements where shape [2, 4] holds 8 (expected shape [batch, 4] (INT64))',
      },
    ]);
    expect(
      issuesOf(
        checkTensorRecord(
          twoInputs,
          request([
            [1, 2],
            [3, 4],
            [5, 6],
            [7, 8],
          ]),
        ),
      )[0]?.message,
    ).toMatch(/^"data" is nested as \[4, 2\], which is not its "shape" \[2, 4\]/);
  });

  it('refuses rows that differ between inputs along the batch axis', () => {
    const request = {
      inputs: [
        { name: 'ids', shape: [2, 4], datatype: 'INT64', data: [1, 2, 3, 4, 5, 6, 7, 8] },
        { name: 'weights', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] },
      ],
    };

    expect(issuesOf(checkTensorRecord(batched, request))).toEqual([
      {
        field: 'inputs.weights',
        message: 'the batch axis (0) is 1 here but 2 in input "ids" (expected shape [-1, 4] (FP32))',
      },
    ]);
  });

  it('refuses malformed entries: no name, no shape, binary data, an input given twice, a numeric id', () => {
    const request = {
      id: 7,
      inputs: [
        { shape: [1, 4], data: [1, 2, 3, 4] },
        { name: 'ids', datatype: 'INT64', data: [1, 2, 3, 4] },
        { name: 'scale', shape: [], datatype: 'FP32', data: [], parameters: { binary_data_size: 4 } },
        { name: 'scale', shape: [], datatype: 'FP32', data: [1] },
      ],
    };

    const issues = issuesOf(checkTensorRecord(twoInputs, request));

    expect(issues).toEqual([
      { field: 'id', message: 'expected a string' },
      { field: 'inputs[0]', message: 'expected {"name", "shape", "datatype", "data"}' },
      { field: 'inputs.ids', message: '"shape" must be a list of sizes (integers ≥ 0)' },
      { field: 'inputs.scale', message: 'binary tensor data is not supported: send "data" as JSON' },
      { field: 'inputs[3]', message: 'input "scale" is given twice' },
    ]);
  });

  it('reads a request with no inputs as a request, missing every input', () => {
    const issues = issuesOf(checkTensorRecord(twoInputs, { id: 'empty', inputs: [] }));

    expect(issues).toEqual([
      { field: 'inputs.ids', message: 'missing: expected shape [batch, 4] (INT64)' },
      { field: 'inputs.scale', message: 'missing: expected shape [] (FP32)' },
    ]);
  });
});

describe('checkTensorRecord, compact records (tensors by input name)', () => {
  it('reads one row, without the batch axis, as a record of one row', () => {
    const record = recordOf(checkTensorRecord(batched, { ids: [1, 2, 3, 4], weights: [0.5, 0.5, 1, 1] }));

    expect(record).toEqual({
      form: 'compact',
      rows: 1,
      inputs: {
        ids: { shape: [1, 4], values: [1n, 2n, 3n, 4n] },
        weights: { shape: [1, 4], values: [0.5, 0.5, 1, 1] },
      },
    });
  });

  it('reads inputs in their full shape when the model has no batch axis, and a scalar for rank 0', () => {
    const record = recordOf(checkTensorRecord(twoInputs, { ids: [[1, 2, 3, 4]], scale: 3 }));

    expect(record.inputs).toEqual({
      ids: { shape: [1, 4], values: [1n, 2n, 3n, 4n] },
      scale: { shape: [], values: [3] },
    });
  });

  it('puts the row on the batch axis the signature names, not always the first', () => {
    const record = recordOf(checkTensorRecord(secondAxis, { x: [1, 2, 3] }));

    expect(record.inputs.x).toEqual({ shape: [3, 1], values: [1, 2, 3] });
  });

  it('names the input and its expected row shape when the shape is wrong', () => {
    const check = checkTensorRecord(batched, { ids: [1, 2, 3], weights: [1, 1, 1, 1] });

    expect(issuesOf(check)).toEqual([
      { field: 'inputs.ids', message: 'expected shape [4] (INT64, one row of [batch, 4]), got [3]' },
    ]);
  });

  it('names missing and unknown inputs, listing those the model has', () => {
    const check = checkTensorRecord(batched, { ids: [1, 2, 3, 4], weight: [1, 1, 1, 1] });

    expect(issuesOf(check)).toEqual([
      { field: 'inputs.weight', message: 'is not an input of this model (its inputs: ids, weights)' },
      { field: 'inputs.weights', message: 'missing: expected shape [4] (FP32, one row of [-1, 4])' },
    ]);
  });

  it('refuses prototype keys as input names', () => {
    const value: unknown = JSON.parse(
      '{"ids": [1, 2, 3, 4], "weights": [1, 1, 1, 1], "__proto__": [1], "constructor": [2]}',
    );

    const check = checkTensorRecord(batched, value);

    expect(issuesOf(check).map((issue) => issue.field)).toEqual(['inputs.__proto__', 'inputs.constructor']);
    expect(issuesOf(check)[0]?.message).toMatch(/^is not allowed as an input name/);
  });

  it('refuses ragged nesting, saying where', () => {
    const check = checkTensorRecord(twoInputs, {
      ids: [
        [1, 2, 3, 4],
        [5, 6, 7],
      ],
      scale: 1,
    });

    expect(issuesOf(check)).toEqual([
      {
        field: 'inputs.ids',
        message:
          'the data is ragged: [1] is an array of 3, where its siblings have 4 elements (expected shape [4] (INT64, one row of [batch, 4]))',
      },
    ]);
  });

  it('refuses leaves at different depths', () => {
    const shallow = checkTensorRecord(twoInputs, { ids: [[1, 2, 3, 4], 5], scale: 1 });
    const deep = checkTensorRecord(twoInputs, {
      ids: [
        [1, 2, 3, 4],
        [5, [6], 7, 8],
      ],
      scale: 1,
    });

    expect(issuesOf(shallow)[0]?.message).toMatch(/^the data is ragged: \[1\] is a number/);
    expect(issuesOf(deep)[0]?.message).toMatch(/^\[1\]\[1\] nests deeper than the rest \(shape \[2, 4\]\)/);
  });

  it('refuses nesting deeper than any model’s rank without walking it', () => {
    let ids: unknown = 1;
    for (let depth = 0; depth < 10_000; depth++) ids = [ids];

    const check = checkTensorRecord(twoInputs, { ids, scale: 1 });

    expect(issuesOf(check)[0]?.message).toMatch(/^the data nests more than 32 arrays deep/);
  });

  it('holds the same symbol to the same size across inputs of one record', () => {
    const check = checkTensorRecord(variableLength, { tokens: [5, 6, 7], mask: [true, false] });

    expect(issuesOf(check)).toEqual([
      {
        field: 'inputs.mask',
        message:
          'dimension "seq" is 2 here but 3 in input "tokens" (expected shape [seq] (BOOL, one row of [batch, seq]))',
      },
    ]);
  });

  it('lets a symbolic dimension take any size of at least 1, and refuses 0', () => {
    const long = recordOf(
      checkTensorRecord(variableLength, { tokens: [1, 2, 3, 4, 5], mask: [1, 1, 1, 0, 0] }),
    );

    expect(long.inputs.tokens?.shape).toEqual([1, 5]);
    expect(long.inputs.mask?.values).toEqual([true, true, true, false, false]);
    expect(issuesOf(checkTensorRecord(variableLength, { tokens: [], mask: [] }))).toHaveLength(2);
  });

  it('refuses a record that is not an object', () => {
    expect(issuesOf(checkTensorRecord(batched, [[1, 2, 3, 4]]))).toEqual([
      { field: '(record)', message: 'expected an inference request or an object of tensors by input name' },
    ]);
  });
});

describe('checkTensorRecord, element values by datatype', () => {
  it.each<[OipDatatype, unknown[], unknown[]]>([
    ['BOOL', [true, 0], [true, false]],
    ['INT8', [-128, 127], [-128, 127]],
    ['INT16', [-32768, 32767], [-32768, 32767]],
    ['INT32', [-2147483648, 2147483647], [-2147483648, 2147483647]],
    ['UINT8', [0, 255], [0, 255]],
    ['UINT16', [0, 65535], [0, 65535]],
    ['UINT32', [0, 4294967295], [0, 4294967295]],
    ['INT64', [9007199254740991, '-9223372036854775808'], [9007199254740991n, -9223372036854775808n]],
    ['UINT64', ['18446744073709551615', 0], [18446744073709551615n, 0n]],
    ['FP16', [65504, -0.1], [65504, -0.1]],
    ['FP32', [1.5, -3.4e38], [1.5, -3.4e38]],
    ['FP64', [1e300, -1e-300], [1e300, -1e-300]],
    ['BYTES', ['word', ''], ['word', '']],
  ])('accepts %s values %j', (datatype, data, values) => {
    const record = recordOf(checkTensorRecord(single(datatype), { x: data }));

    expect(record.inputs.x?.values).toEqual(values);
  });

  it.each<[OipDatatype, unknown, string]>([
    ['BOOL', 2, '2 is not a BOOL (true, false, 0 or 1)'],
    ['BOOL', 'true', '"true" is not a BOOL (true, false, 0 or 1)'],
    ['INT8', 128, '128 is out of range for INT8 [-128, 127]'],
    ['INT8', 1.5, '1.5 is not an integer'],
    ['UINT8', -1, '-1 is out of range for UINT8 [0, 255]'],
    ['INT16', 32768, '32768 is out of range for INT16 [-32768, 32767]'],
    ['UINT16', 65536, '65536 is out of range for UINT16 [0, 65535]'],
    ['INT32', '7', '"7" is not an integer'],
    ['UINT32', 4294967296, '4294967296 is out of range for UINT32 [0, 4294967295]'],
    [
      'INT64',
      2 ** 60,
      '1152921504606847000 is past 2^53, where JSON numbers lose digits: send it as a decimal string',
    ],
    [
      'INT64',
      '9223372036854775808',
      '9223372036854775808 is out of range for INT64 [-9223372036854775808, 9223372036854775807]',
    ],
    ['INT64', '1e3', '"1e3" is not an integer (a JSON number or a decimal string)'],
    ['UINT64', '-1', '-1 is out of range for UINT64 [0, 18446744073709551615]'],
    ['FP16', 70000, '70000 is out of range for FP16'],
    ['FP32', 1e39, '1e+39 is out of range for FP32'],
    ['FP64', '1.5', '"1.5" is not a number'],
    ['FP32', null, 'null is not a number'],
    ['BYTES', 1, '1 is not a string'],
  ])('refuses a %s element %j, naming its index', (datatype, bad, message) => {
    const check = checkTensorRecord(single(datatype), { x: [bad, bad] });

    expect(issuesOf(check)).toEqual([{ field: 'inputs.x', message: `element 0: ${message} (${datatype})` }]);
  });

  it('names the first bad element by its row-major index', () => {
    const request = {
      inputs: [
        {
          name: 'x',
          shape: [2, 2],
          datatype: 'UINT8',
          data: [
            [1, 2],
            [3, 256],
          ],
        },
      ],
    };

    expect(issuesOf(checkTensorRecord(single('UINT8'), request))[0]?.message).toBe(
      'element 3: 256 is out of range for UINT8 [0, 255] (UINT8)',
    );
  });
});
