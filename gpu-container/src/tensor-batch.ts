import * as ort from 'onnxruntime-node';
import { workerErrorCodes } from '../../lib/domain/worker-output';
import { LongtailError } from '../../lib/errors';
import { batchAxisOf, datatypeOfOrt, formatShape, ortTypeOf, withoutAxis } from '../../lib/models/signature';
import type { ModelSignature, OipDatatype, TensorSpec } from '../../lib/models/signature';
import { compactRowAxisOf } from '../../lib/models/tensor-records';
import type { RecordTensor, TensorRecord } from '../../lib/models/tensor-records';
import type { TensorValues } from '../../lib/models/tensor-values';
import { jsonOfOrtData, toOrtData } from './tensor-data';
import type { JsonScalar } from './tensor-data';
import { concatenateRuns, nest, runsAlongAxis, splitRuns, sum, withSize } from './tensor-layout';
import type { Nested } from './tensor-layout';

/**
 * Records of a model served as tensors (see lib/models/tensor-records.ts), batched into ONNX
 * Runtime calls and answered in the form each was sent: an Open Inference Protocol response for a
 * request, an object of nested arrays by output name for a compact record.
 */

/** The model version that answers, named in every protocol response. */
export interface ServedModel {
  name: string;
  version: string;
}

export interface OipOutputTensor {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  /** Flat, row-major. */
  data: JsonScalar[];
}

/** One record's share of an output. */
type OutputPart = Pick<OipOutputTensor, 'shape' | 'data'>;

/** The Open Inference Protocol's inference response. */
export interface OipInferenceResponse {
  id?: string;
  model_name: string;
  model_version: string;
  outputs: OipOutputTensor[];
}

/** A compact record's answer: each output's rows without the batch axis (a scalar for rank 0). */
export type CompactResult = Record<string, Nested<JsonScalar>>;

export type TensorResult = OipInferenceResponse | CompactResult;

/** Records that share one ONNX Runtime call, and its feeds. */
export interface EncodedTensorBatch {
  /** Their positions in the list given to encodeTensorBatch. */
  positions: number[];
  feeds: Record<string, ort.Tensor>;
}

const tensorOf = (record: TensorRecord, spec: TensorSpec): RecordTensor => {
  const tensor = record.inputs[spec.name];
  if (!tensor) throw new Error(`The record has no input ${spec.name}: check it with checkTensorRecord first`);
  return tensor;
};

/**
 * Records whose inputs agree in every size but the batch axis: only those can be stacked into one
 * tensor. Records of a model with a symbolic length (`[batch, seq]`) fall into one group per
 * length, in the order each length first appears; with no batch axis each record is a group.
 */
const groupsOf = (
  signature: ModelSignature,
  records: readonly TensorRecord[],
  axis: number | null,
): number[][] => {
  if (axis === null) return records.map((_, position) => [position]);
  const groups = new Map<string, number[]>();
  records.forEach((record, position) => {
    const key = JSON.stringify(
      signature.inputs.map((spec) => withoutAxis(tensorOf(record, spec).shape, axis)),
    );
    const group = groups.get(key);
    if (group) group.push(position);
    else groups.set(key, [position]);
  });
  return [...groups.values()];
};

/** One input of a group of records, stacked along the batch axis. */
const feedOf = (spec: TensorSpec, tensors: readonly RecordTensor[], rows: number[], axis: number | null) => {
  const first = tensors[0] as RecordTensor;
  let { shape, values } = first;
  if (axis !== null && tensors.length > 1) {
    shape = withSize(first.shape, axis, sum(rows));
    const parts = tensors.map((tensor) => tensor.values);
    // Every part holds the input's datatype, so the batch is one kind of TensorValues too.
    values = concatenateRuns<unknown>(parts, runsAlongAxis(shape, axis, rows)) as TensorValues;
  }
  return new ort.Tensor(ortTypeOf[spec.datatype], toOrtData(spec.datatype, values), shape);
};

/**
 * Checked records as ONNX Runtime feeds: stacked along the batch axis (see batchAxisOf) where their
 * other sizes agree, one call per group; with no batch axis, one call per record.
 */
export const encodeTensorBatch = (
  signature: ModelSignature,
  records: readonly TensorRecord[],
): EncodedTensorBatch[] => {
  const axis = batchAxisOf(signature);
  return groupsOf(signature, records, axis).map((positions) => {
    const group = positions.map((position) => records[position] as TensorRecord);
    const rows = group.map((record) => record.rows);
    const feeds = signature.inputs.map((spec) => {
      const tensors = group.map((record) => tensorOf(record, spec));
      return [spec.name, feedOf(spec, tensors, rows, axis)] as const;
    });
    return { positions, feeds: Object.fromEntries(feeds) };
  });
};

const inferenceFailed = (message: string) => new LongtailError(workerErrorCodes.inferenceFailed, message);

/** Each record's share of one output: its shape (its own rows along the batch axis) and elements. */
const splitOutput = (
  name: string,
  tensor: ort.Tensor,
  records: readonly TensorRecord[],
  axis: number | null,
): { datatype: OipDatatype; parts: OutputPart[] } => {
  const datatype = datatypeOfOrt(tensor.type);
  if (!datatype) {
    throw inferenceFailed(
      `The model's output ${name} is of type ${tensor.type}, which results cannot carry.`,
    );
  }
  const dims = [...tensor.dims];
  const data = jsonOfOrtData(datatype, tensor.data);
  if (axis === null) {
    if (records.length !== 1) throw new Error('Without a batch axis, records run one at a time');
    return { datatype, parts: [{ shape: dims, data }] };
  }
  const rows = records.map((record) => record.rows);
  const total = sum(rows);
  if (dims[axis] !== total) {
    throw inferenceFailed(
      `The model's output ${name} has shape ${formatShape(dims)}: it cannot be split into ${records.length} records ` +
        `of ${total} rows along axis ${axis}. Set the model's batchAxis, or null to run records one at a time.`,
    );
  }
  const parts = splitRuns(data, runsAlongAxis(dims, axis, rows));
  return {
    datatype,
    parts: parts.map((part, i) => ({ shape: withSize(dims, axis, rows[i] as number), data: part })),
  };
};

/**
 * One ONNX Runtime call's outputs as one result per record (in the order of `records`, those the
 * call was fed): each output split along the batch axis, and written in the record's form with
 * only the outputs it asked for.
 */
export const decodeTensorOutputs = (
  signature: ModelSignature,
  ortOutputs: Readonly<Record<string, ort.Tensor>>,
  records: readonly TensorRecord[],
  model: ServedModel,
): TensorResult[] => {
  const axis = batchAxisOf(signature);
  const outputs = signature.outputs.map(({ name }) => {
    const tensor = ortOutputs[name];
    if (!tensor) throw inferenceFailed(`The model gave no output ${name}.`);
    return { name, ...splitOutput(name, tensor, records, axis) };
  });
  return records.map((record, i): TensorResult => {
    const wanted = outputs.filter(({ name }) => !record.outputs || record.outputs.includes(name));
    if (record.form === 'compact') {
      return Object.fromEntries(
        wanted.map(({ name, parts }) => {
          const { shape, data } = parts[i] as OutputPart;
          // A model run one record at a time answers its one row without the row's axis too.
          const spec = signature.outputs.find((output) => output.name === name);
          const rowAxis = spec ? compactRowAxisOf(spec, axis) : axis;
          const oneRow =
            rowAxis !== null && (axis !== null || (record.asRow === true && shape[rowAxis] === 1));
          return [name, nest(data, oneRow ? withoutAxis(shape, rowAxis) : shape)];
        }),
      );
    }
    return {
      ...(record.id !== undefined ? { id: record.id } : {}),
      model_name: model.name,
      model_version: model.version,
      outputs: wanted.map(({ name, datatype, parts }) => {
        const { shape, data } = parts[i] as OutputPart;
        return { name, datatype, shape, data };
      }),
    };
  });
};

/**
 * Runs checked records through the session, as few calls as their shapes allow, one after
 * another, and gives one result per record in their order. A failing call rejects the whole
 * batch: the caller may run its records one at a time to find which one the model refuses.
 */
export const runTensorBatch = async (
  session: Pick<ort.InferenceSession, 'run'>,
  signature: ModelSignature,
  records: readonly TensorRecord[],
  model: ServedModel,
): Promise<TensorResult[]> => {
  const results: TensorResult[] = new Array<TensorResult>(records.length);
  for (const { positions, feeds } of encodeTensorBatch(signature, records)) {
    const outputs = await session.run(feeds);
    const group = positions.map((position) => records[position] as TensorRecord);
    decodeTensorOutputs(signature, outputs, group, model).forEach((result, i) => {
      results[positions[i] as number] = result;
    });
  }
  return results;
};
