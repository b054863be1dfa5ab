import * as ort from 'onnxruntime-node';
import { floatToHalf, halfToFloat } from '../../gpu-container/src/float16';
import { runTensorBatch } from '../../gpu-container/src/tensor-batch';
import type { OipInferenceResponse, TensorResult } from '../../gpu-container/src/tensor-batch';
import { describeIssues } from '../../lib/models/record-schema';
import {
  batchAxisOf,
  modelSignatureSchema,
  oipDatatypes,
  signatureFromOrt,
} from '../../lib/models/signature';
import type { ModelSignature } from '../../lib/models/signature';
import { checkTensorRecord } from '../../lib/models/tensor-records';
import type { TensorRecord } from '../../lib/models/tensor-records';
import {
  buildFixedShapeModel,
  buildIdentityModel,
  buildSecondAxisBatchModel,
  buildTwoInputModel,
  buildTypesModel,
  buildVariableLengthModel,
  int64Initializer,
  intAttribute,
  node,
  onnxModel,
} from '../support/onnx-models';

const model = { name: 'tensors', version: '3' };

/** An ONNX Runtime session that remembers the shape of every feed of every call. */
interface Opened {
  session: Pick<ort.InferenceSession, 'run'>;
  signature: ModelSignature;
  calls: Record<string, readonly number[]>[];
}

const sessions: ort.InferenceSession[] = [];

const open = async (bytes: Uint8Array): Promise<Opened> => {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  sessions.push(session);
  const calls: Opened['calls'] = [];
  return {
    signature: signatureFromOrt(session.inputMetadata, session.outputMetadata),
    calls,
    session: {
      run: (feeds: ort.InferenceSession.FeedsType) => {
        calls.push(Object.fromEntries(Object.entries(feeds).map(([name, tensor]) => [name, tensor.dims])));
        return session.run(feeds);
      },
    },
  };
};

afterAll(async () => {
  await Promise.all(sessions.map((session) => session.release()));
});

const checked = (signature: ModelSignature, values: unknown[]): TensorRecord[] =>
  values.map((value) => {
    const check = checkTensorRecord(signature, value);
    if (!check.ok) throw new Error(`invalid test record: ${describeIssues(check.issues)}`);
    return check.record;
  });

const run = (opened: Opened, values: unknown[], signature = opened.signature): Promise<TensorResult[]> =>
  runTensorBatch(opened.session, signature, checked(signature, values), model);

const outputsOf = (result: TensorResult | undefined) => (result as OipInferenceResponse).outputs;

describe('runTensorBatch, a model with an input that has no batch axis', () => {
  it('reads the signature from ORT and runs records one at a time', async () => {
    const opened = await open(buildTwoInputModel());
    const request = {
      id: 'req-1',
      inputs: [
        { name: 'ids', shape: [2, 4], datatype: 'INT64', data: [1, 2, 3, 4, 10, 20, 30, 40] },
        { name: 'scale', shape: [], datatype: 'FP32', data: [0.5] },
      ],
    };
    const compact = { ids: [[5, 5, 5, 5]], scale: 2 };

    const results = await run(opened, [request, compact]);

    expect(opened.signature.inputs).toEqual([
      { name: 'ids', datatype: 'INT64', shape: ['batch', 4] },
      { name: 'scale', datatype: 'FP32', shape: [] },
    ]);
    expect(batchAxisOf(opened.signature)).toBeNull();
    expect(opened.calls).toEqual([
      { ids: [2, 4], scale: [] },
      { ids: [1, 4], scale: [] },
    ]);
    expect(results).toEqual([
      {
        id: 'req-1',
        model_name: 'tensors',
        model_version: '3',
        outputs: [
          { name: 'sum', datatype: 'FP32', shape: [2], data: [5, 50] },
          { name: 'ids_plus_one', datatype: 'INT64', shape: [2, 4], data: [2, 3, 4, 5, 11, 21, 31, 41] },
        ],
      },
      { sum: [40], ids_plus_one: [[6, 6, 6, 6]] },
    ]);
  });

  it('round-trips INT64 past 2^53 as decimal strings, and answers only the outputs asked for', async () => {
    const opened = await open(buildTwoInputModel());
    const request = {
      inputs: [
        {
          name: 'ids',
          shape: [1, 4],
          datatype: 'INT64',
          data: ['1152921504606846976', '-9223372036854775808', 0, -2],
        },
        { name: 'scale', shape: [], datatype: 'FP32', data: [1] },
      ],
      outputs: [{ name: 'ids_plus_one' }],
    };

    const [result] = await run(opened, [request]);

    expect(result).toEqual({
      model_name: 'tensors',
      model_version: '3',
      outputs: [
        {
          name: 'ids_plus_one',
          datatype: 'INT64',
          shape: [1, 4],
          data: ['1152921504606846977', '-9223372036854775807', 1, -1],
        },
      ],
    });
  });
});

describe('runTensorBatch, BOOL, INT32, FP16 and BYTES tensors batched along the first axis', () => {
  const row = (flags: boolean[], counts: number[], halves: number[], words: string[]) => ({
    flags,
    counts,
    halves,
    words,
  });

  it('runs records of both forms in one call and gives each its own rows back', async () => {
    const opened = await open(buildTypesModel());
    const request = {
      id: 'two-rows',
      inputs: [
        { name: 'flags', shape: [2, 3], datatype: 'BOOL', data: [true, true, true, 0, 0, 0] },
        {
          name: 'counts',
          shape: [2, 2],
          datatype: 'INT32',
          data: [
            [-7, 8],
            [2147483647 >> 1, 0],
          ],
        },
        { name: 'halves', shape: [2, 2], datatype: 'FP16', data: [0.1, 65504, -0.5, 1e-7] },
        { name: 'words', shape: [2, 2], datatype: 'BYTES', data: ['héllo', '', 'a b', '日本'] },
      ],
    };
    const records = [
      row([true, false, true], [1, 2], [1.5, -2], ['x', 'y']),
      request,
      row([false, false, true], [100, -100], [3.14159, 0], ['', 'z']),
    ];

    const results = await run(opened, records);

    expect(batchAxisOf(opened.signature)).toBe(0);
    expect(opened.calls).toEqual([{ flags: [4, 3], counts: [4, 2], halves: [4, 2], words: [4, 2] }]);
    expect(results[0]).toEqual({
      not_flags: [false, true, false],
      counts_doubled: [2, 4],
      halves_as_float: [1.5, -2],
      halves_doubled: [3, -4],
      words_out: ['x', 'y'],
    });
    expect(results[2]).toEqual({
      not_flags: [true, true, false],
      counts_doubled: [200, -200],
      halves_as_float: [3.140625, 0],
      halves_doubled: [6.28, 0],
      words_out: ['', 'z'],
    });
    expect(results[1]).toMatchObject({ id: 'two-rows', model_name: 'tensors', model_version: '3' });
    expect(outputsOf(results[1])).toEqual([
      { name: 'not_flags', datatype: 'BOOL', shape: [2, 3], data: [false, false, false, true, true, true] },
      { name: 'counts_doubled', datatype: 'INT32', shape: [2, 2], data: [-14, 16, 2147483646, 0] },
      {
        name: 'halves_as_float',
        datatype: 'FP32',
        shape: [2, 2],
        data: [0.099975586, 65504, -0.5, 1.1920929e-7],
      },
      { name: 'halves_doubled', datatype: 'FP16', shape: [2, 2], data: [0.2, 'Infinity', -1, 2.4e-7] },
      { name: 'words_out', datatype: 'BYTES', shape: [2, 2], data: ['héllo', '', 'a b', '日本'] },
    ]);
  });

  it('writes FP16 as ORT reads it: its Cast to FP32 gives back exactly the half we meant', async () => {
    const opened = await open(buildTypesModel());
    const halves = [0.1, 1 / 3, -1234.5, 6e-8, 65000, 2 ** -14, -0.000123, 42];
    const records = [];
    for (let i = 0; i < halves.length; i += 2) {
      records.push(row([true, true, true], [0, 0], [halves[i] as number, halves[i + 1] as number], ['', '']));
    }

    const results = await run(opened, records);

    const cast = results.flatMap((result) => (result as { halves_as_float: number[] }).halves_as_float);
    const expected = halves.map((value) => Math.fround(halfToFloat(floatToHalf(value))));
    expect(cast.map((value) => Math.fround(value))).toEqual(expected);
  });
});

describe('runTensorBatch, a model with fixed shapes and no batch axis', () => {
  it('runs each record on its own, in the full shape', async () => {
    const opened = await open(buildFixedShapeModel());
    const records = [
      {
        x: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      },
      {
        inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', data: [0.25, 0, 0, 0, 0, -1] }],
      },
    ];

    const results = await run(opened, records);

    expect(batchAxisOf(opened.signature)).toBeNull();
    expect(opened.calls).toEqual([{ x: [2, 3] }, { x: [2, 3] }]);
    expect(results[0]).toEqual({
      y: [
        [1, 4],
        [2, 5],
        [3, 6],
      ],
    });
    expect(outputsOf(results[1])).toEqual([
      { name: 'y', datatype: 'FP32', shape: [3, 2], data: [0.25, 0, 0, 0, 0, -1] },
    ]);
  });
});

describe('runTensorBatch, a batch axis that is not the first', () => {
  it('batches along the axis the signature names', async () => {
    const opened = await open(buildSecondAxisBatchModel());
    const signature = modelSignatureSchema.parse({ ...opened.signature, batchAxis: 1 });
    const request = { inputs: [{ name: 'x', shape: [3, 2], datatype: 'FP32', data: [1, 10, 2, 20, 3, 30] }] };

    const results = await run(opened, [{ x: [1, 1, 1] }, request, { x: [0, -1, 2] }], signature);

    expect(opened.calls).toEqual([{ x: [3, 4] }]);
    expect(results[0]).toEqual({ scaled: [1, 2, 3], total: [3] });
    expect(outputsOf(results[1])).toEqual([
      { name: 'scaled', datatype: 'FP32', shape: [3, 2], data: [1, 10, 4, 40, 9, 90] },
      { name: 'total', datatype: 'FP32', shape: [1, 2], data: [6, 60] },
    ]);
    expect(results[2]).toEqual({ scaled: [0, -2, 6], total: [1] });
  });

  it('runs records one at a time when nothing names the axis, with the same results', async () => {
    const opened = await open(buildSecondAxisBatchModel());

    const results = await run(opened, [{ x: [[1], [1], [1]] }, { x: [[0], [-1], [2]] }]);

    expect(batchAxisOf(opened.signature)).toBeNull();
    expect(opened.calls).toEqual([{ x: [3, 1] }, { x: [3, 1] }]);
    expect(results).toEqual([
      { scaled: [[1], [2], [3]], total: [[3]] },
      { scaled: [[0], [-2], [6]], total: [[1]] },
    ]);
  });
});

describe('runTensorBatch, records whose other dimensions differ', () => {
  it('batches records of the same length together and keeps the results in record order', async () => {
    const opened = await open(buildVariableLengthModel());
    const records = [
      { tokens: [1, 2, 3], mask: [1, 1, 0] },
      { tokens: [1, 2, 3, 4, 5], mask: [1, 1, 1, 1, 1] },
      { tokens: [10, 20, 30], mask: [0, 1, 1] },
      { tokens: ['9007199254740993', 0, 0, 0, 0], mask: [false, true, true, true, true] },
    ];

    const results = await run(opened, records);

    expect(opened.calls).toEqual([
      { tokens: [2, 3], mask: [2, 3] },
      { tokens: [2, 5], mask: [2, 5] },
    ]);
    expect(results).toEqual([{ total: 3 }, { total: 15 }, { total: 50 }, { total: 0 }]);
  });
});

describe('runTensorBatch, every datatype through ONNX Runtime', () => {
  const edges = {
    BOOL: [true, false],
    UINT8: [0, 255],
    UINT16: [0, 65535],
    UINT32: [0, 4294967295],
    UINT64: [0, '18446744073709551615'],
    INT8: [-128, 127],
    INT16: [-32768, 32767],
    INT32: [-2147483648, 2147483647],
    INT64: ['-9223372036854775808', 9007199254740991],
    // Floats written as their shortest decimals, which is how results write them.
    FP16: [-65500, 0.00006104],
    FP32: [3.4028235e38, -1.1754944e-38],
    FP64: [Number.MAX_VALUE, -Number.MIN_VALUE],
    BYTES: ['∑ unicode', ''],
  };

  it('gives back each datatype’s extreme values unchanged, batched with another record', async () => {
    const opened = await open(buildIdentityModel(oipDatatypes));
    const request = {
      id: 'edges',
      inputs: oipDatatypes.map((datatype) => ({
        name: `x_${datatype}`,
        shape: [1, 2],
        datatype,
        data: edges[datatype],
      })),
    };
    const compact = Object.fromEntries(oipDatatypes.map((datatype) => [`x_${datatype}`, edges[datatype]]));

    const [oip, short] = await run(opened, [request, compact]);

    expect(opened.signature.inputs[0]?.shape).toEqual(['batch', -1]);
    expect(opened.calls).toHaveLength(1);
    expect(outputsOf(oip)).toEqual(
      oipDatatypes.map((datatype) => ({
        name: `y_${datatype}`,
        datatype,
        shape: [1, 2],
        data: edges[datatype],
      })),
    );
    expect(short).toEqual(
      Object.fromEntries(oipDatatypes.map((datatype) => [`y_${datatype}`, edges[datatype]])),
    );
  });
});

describe('runTensorBatch, an output that does not keep the batch axis', () => {
  it('fails the call, naming the output, rather than cutting wrong rows', async () => {
    // The graph sums over the batch: one row whatever comes in. ORT reports `y` as [1, 3], so a
    // signature read from it runs records one at a time; this one claims the batch axis anyway.
    const bytes = onnxModel({
      name: 'sums_the_batch',
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', 3] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', 3] }],
      nodes: [node('ReduceSum', ['x', 'batch_axis'], ['y'], [intAttribute('keepdims', 1)])],
      initializers: [int64Initializer('batch_axis', [1], [0])],
    });
    const opened = await open(bytes);
    const claimed = modelSignatureSchema.parse({
      inputs: opened.signature.inputs,
      outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', 3] }],
    });

    const act = run(opened, [{ x: [1, 2, 3] }, { x: [4, 5, 6] }], claimed);

    await expect(act).rejects.toMatchObject({
      code: 'INFERENCE_FAILED',
      message: expect.stringContaining(
        'output y has shape [1, 3]: it cannot be split into 2 records of 2 rows',
      ),
    });
  });
});
