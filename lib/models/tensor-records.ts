import type { RecordIssue } from './record-schema';
import {
  batchAxisOf,
  formatShape,
  isDynamic,
  oipDatatypes,
  reservedTensorNames,
  withoutAxis,
} from './signature';
import type { Dimension, ModelSignature, OipDatatype, TensorSpec } from './signature';
import { elementCount, flattenNested, readElements } from './tensor-values';
import type { Read, TensorValues } from './tensor-values';

/**
 * A record for a model served as tensors (no manifest), in either of two forms:
 *
 * - an Open Inference Protocol inference request, as KServe and Triton take it:
 *   `{"id": "r1", "inputs": [{"name": "ids", "shape": [2, 4], "datatype": "INT64", "data": [...]}]}`,
 *   each input's data flat in row-major order or nested, and as many rows along the batch axis
 *   as the caller likes;
 * - compact: `{"ids": [1, 2, 3, 4], "scale": 0.5}`, one row: each input's nested array in its
 *   shape without the batch axis (a scalar for a rank-0 input).
 *
 * A record is read as a request when its `inputs` is an array of objects (or empty); so a model
 * with an input called `inputs` is still sent compact records, whose values are never objects.
 * A request's other fields (`parameters`) are ignored; its `outputs` choose what is answered.
 */

/** One input of a checked record: its own shape (with its rows along the batch axis) and elements. */
export interface RecordTensor {
  shape: number[];
  values: TensorValues;
}

export interface TensorRecord {
  /** The request's `id`, echoed in its response. */
  id?: string;
  /** How it was sent, which is how it is answered. */
  form: 'oip' | 'compact';
  /** Every input of the model, by name. */
  inputs: Record<string, RecordTensor>;
  /** Its size along the batch axis: 1 for a compact record, and where records run one at a time. */
  rows: number;
  /**
   * A compact record for a model run one record at a time, whose inputs left out their leading
   * dynamic dimension (one row of it): its answer leaves it out too.
   */
  asRow?: boolean;
  /** The outputs a request asked for (its `outputs`); all of them when unset. */
  outputs?: string[];
}

export type TensorRecordCheck = { ok: true; record: TensorRecord } | { ok: false; issues: RecordIssue[] };

/** One input as the record gives it, before it is checked against the model. */
interface GivenInput {
  data: unknown;
  /** A request's `shape`; unset for a compact record, whose shape is its nesting. */
  shape?: number[];
  datatype?: OipDatatype;
}

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const own = (object: JsonObject, key: string): unknown =>
  Object.hasOwn(object, key) ? object[key] : undefined;

const isOipRequest = (value: JsonObject): boolean => {
  const inputs = own(value, 'inputs');
  return Array.isArray(inputs) && (inputs.length === 0 || isObject(inputs[0]));
};

const isShape = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((size) => Number.isSafeInteger(size) && (size as number) >= 0);

const inputField = (name: string) => `inputs.${name}`;

/** Reads a request's `inputs` entries by name; what is wrong with one goes to `issues`. */
const requestInputs = (entries: unknown[], issues: RecordIssue[]): Map<string, GivenInput> => {
  const given = new Map<string, GivenInput>();
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const field = `inputs[${index}]`;
    const name = isObject(entry) ? own(entry, 'name') : undefined;
    if (!isObject(entry) || typeof name !== 'string') {
      issues.push({ field, message: 'expected {"name", "shape", "datatype", "data"}' });
      return;
    }
    if (seen.has(name)) {
      issues.push({ field, message: `input "${name}" is given twice` });
      return;
    }
    seen.add(name);
    const [shape, datatype, data] = [own(entry, 'shape'), own(entry, 'datatype'), own(entry, 'data')];
    const parameters = own(entry, 'parameters');
    const problems = [
      isObject(parameters) && own(parameters, 'binary_data_size') !== undefined
        ? 'binary tensor data is not supported: send "data" as JSON'
        : undefined,
      isShape(shape) ? undefined : '"shape" must be a list of sizes (integers ≥ 0)',
      datatype === undefined || oipDatatypes.includes(datatype as OipDatatype)
        ? undefined
        : `"datatype" ${JSON.stringify(datatype)} is not one of ${oipDatatypes.join(', ')}`,
      data === undefined ? '"data" is missing' : undefined,
    ].filter((problem) => problem !== undefined);
    if (problems.length > 0) {
      issues.push({ field: inputField(name), message: problems.join('; ') });
      return;
    }
    given.set(name, { data, shape: shape as number[], datatype: datatype as OipDatatype | undefined });
  });
  return given;
};

const compactInputs = (value: JsonObject): Map<string, GivenInput> =>
  new Map(Object.keys(value).map((name) => [name, { data: own(value, name) }]));

/** The names a request asks to have answered (`outputs: [{"name"}]`); unknown ones go to `issues`. */
const requestedOutputs = (
  signature: ModelSignature,
  value: unknown,
  issues: RecordIssue[],
): string[] | undefined => {
  if (value === undefined) return undefined;
  const known = new Set(signature.outputs.map((spec) => spec.name));
  if (!Array.isArray(value)) {
    issues.push({ field: 'outputs', message: 'expected a list of {"name"}' });
    return undefined;
  }
  return value.flatMap((entry: unknown, index) => {
    const name = isObject(entry) ? own(entry, 'name') : undefined;
    if (typeof name === 'string' && known.has(name)) return [name];
    issues.push({
      field: `outputs[${index}]`,
      message: `${JSON.stringify(name ?? entry)} is not an output of this model (its outputs: ${[...known].join(', ')})`,
    });
    return [];
  });
};

/**
 * The axis a compact record leaves out of one input: the batch axis, or, for a model that runs
 * records one at a time, the input's own leading dynamic dimension (the row it is one of).
 */
export const compactRowAxisOf = (spec: { shape: readonly Dimension[] }, axis: number | null): number | null =>
  axis ?? (spec.shape.length > 0 && isDynamic(spec.shape[0] as Dimension) ? 0 : null);

const expectedShape = (spec: TensorSpec, form: TensorRecord['form'], axis: number | null): string => {
  const rowAxis = form === 'compact' ? compactRowAxisOf(spec, axis) : null;
  return rowAxis !== null
    ? `${formatShape(withoutAxis(spec.shape, rowAxis))} (${spec.datatype}, one row of ${formatShape(spec.shape)})`
    : `${formatShape(spec.shape)} (${spec.datatype})`;
};

/** The input's shape and row-major elements (not yet read as its datatype). */
const shapeAndLeaves = (
  spec: TensorSpec,
  given: GivenInput,
  axis: number | null,
): Read<{ shape: number[]; given: number[]; leaves: unknown[]; asRow?: boolean }> => {
  const nested = flattenNested(given.data);
  if (!nested.ok) return nested;
  const { shape: nesting, leaves } = nested.value;
  if (!given.shape) {
    // Compact: one row, so the row's axis is there with size 1; the whole tensor is taken too,
    // where the model runs records one at a time.
    const shape = [...nesting];
    const rowAxis = compactRowAxisOf(spec, axis);
    const asRow = rowAxis !== null && (axis !== null || shape.length === spec.shape.length - 1);
    if (asRow) shape.splice(rowAxis, 0, 1);
    return { ok: true, value: { shape, given: nesting, leaves, asRow: axis === null && asRow } };
  }
  const declared = given.shape;
  const flat = nesting.length === 1 && declared.length !== 1;
  if (flat && leaves.length !== elementCount(declared)) {
    return {
      ok: false,
      message: `"data" has ${leaves.length} elements where shape ${formatShape(declared)} holds ${elementCount(declared)}`,
    };
  }
  if (!flat && formatShape(nesting) !== formatShape(declared)) {
    return {
      ok: false,
      message: `"data" is nested as ${formatShape(nesting)}, which is not its "shape" ${formatShape(declared)}`,
    };
  }
  return { ok: true, value: { shape: declared, given: declared, leaves } };
};

const fitsSpec = (spec: TensorSpec, shape: readonly number[]) =>
  shape.length === spec.shape.length &&
  spec.shape.every((dimension, i) => {
    const size = shape[i] ?? -1;
    return isDynamic(dimension) ? size >= 1 : size === dimension;
  });

/** A size that must be the same in every input of one record: a symbol, or the batch axis. */
interface Binding {
  size: number;
  input: string;
}

/** Why this input's sizes disagree with those other inputs of the record bound first, if they do. */
const bindingConflict = (
  spec: TensorSpec,
  shape: readonly number[],
  axis: number | null,
  bindings: Map<string, Binding>,
): string | undefined => {
  for (let i = 0; i < spec.shape.length; i++) {
    const dimension = spec.shape[i] as Dimension;
    const size = shape[i] as number;
    const keys = [
      ...(typeof dimension === 'string' ? [`dimension "${dimension}"`] : []),
      ...(i === axis ? [`the batch axis (${i})`] : []),
    ];
    for (const key of keys) {
      const bound = bindings.get(key);
      if (!bound) bindings.set(key, { size, input: spec.name });
      else if (bound.size !== size)
        return `${key} is ${size} here but ${bound.size} in input "${bound.input}"`;
    }
  }
  return undefined;
};

/** One input checked against its spec: its datatype, its shape, then its elements. */
const checkInput = (
  spec: TensorSpec,
  input: GivenInput,
  form: TensorRecord['form'],
  axis: number | null,
  bindings: Map<string, Binding>,
  rowInputs: Set<string>,
): Read<RecordTensor> => {
  const expected = expectedShape(spec, form, axis);
  if (input.datatype && input.datatype !== spec.datatype) {
    return { ok: false, message: `expected datatype ${spec.datatype}, got ${input.datatype}` };
  }
  const read = shapeAndLeaves(spec, input, axis);
  if (!read.ok) return { ok: false, message: `${read.message} (expected shape ${expected})` };
  const { shape, given, leaves } = read.value;
  if (!fitsSpec(spec, shape)) {
    return { ok: false, message: `expected shape ${expected}, got ${formatShape(given)}` };
  }
  const conflict = bindingConflict(spec, shape, axis, bindings);
  if (conflict) return { ok: false, message: `${conflict} (expected shape ${expected})` };
  const values = readElements(spec.datatype, leaves);
  if (!values.ok) return { ok: false, message: `${values.message} (${spec.datatype})` };
  if (read.value.asRow) rowInputs.add(spec.name);
  return { ok: true, value: { shape, values: values.value } };
};

/** Issues for the inputs a record gives that the model does not have. */
const unknownInputs = (signature: ModelSignature, names: Iterable<string>): RecordIssue[] => {
  const known = signature.inputs.map((spec) => spec.name);
  return [...names]
    .filter((name) => !known.includes(name))
    .map((name) => ({
      field: inputField(name),
      message: `${reservedTensorNames.has(name) ? 'is not allowed as an input name' : 'is not an input of this model'} (its inputs: ${known.join(', ')})`,
    }));
};

/**
 * Checks a record against a model's signature and reads it into tensors: every input present and
 * no other, of its datatype, of its shape (a dynamic dimension takes any size ≥ 1, the same symbol
 * the same size in every input), every element a value of its type. Each issue names the input.
 */
export const checkTensorRecord = (signature: ModelSignature, value: unknown): TensorRecordCheck => {
  if (!isObject(value)) {
    return {
      ok: false,
      issues: [
        { field: '(record)', message: 'expected an inference request or an object of tensors by input name' },
      ],
    };
  }
  const issues: RecordIssue[] = [];
  const form: TensorRecord['form'] = isOipRequest(value) ? 'oip' : 'compact';
  const axis = batchAxisOf(signature);
  const id = form === 'oip' ? own(value, 'id') : undefined;
  if (id !== undefined && typeof id !== 'string') issues.push({ field: 'id', message: 'expected a string' });
  const outputs = form === 'oip' ? requestedOutputs(signature, own(value, 'outputs'), issues) : undefined;
  const given =
    form === 'oip' ? requestInputs(own(value, 'inputs') as unknown[], issues) : compactInputs(value);
  issues.push(...unknownInputs(signature, given.keys()));

  const tensors: [string, RecordTensor][] = [];
  const bindings = new Map<string, Binding>();
  const rowInputs = new Set<string>();
  for (const spec of signature.inputs) {
    const field = inputField(spec.name);
    const input = given.get(spec.name);
    // A request's entry that was itself malformed is not reported missing too.
    if (!input && issues.some((issue) => issue.field === field)) continue;
    const checked = input
      ? checkInput(spec, input, form, axis, bindings, rowInputs)
      : { ok: false as const, message: `missing: expected shape ${expectedShape(spec, form, axis)}` };
    if (checked.ok) tensors.push([spec.name, checked.value]);
    else issues.push({ field, message: checked.message });
  }
  if (issues.length > 0) return { ok: false, issues };

  // Every input has the same size along the batch axis, checked above.
  const rows = axis === null ? 1 : (tensors[0]?.[1].shape[axis] ?? 1);
  return {
    ok: true,
    record: {
      ...(typeof id === 'string' ? { id } : {}),
      form,
      // Own properties even for a name like "__proto__" (which the signature schema refuses anyway).
      inputs: Object.fromEntries(tensors),
      rows,
      ...(rowInputs.size > 0 ? { asRow: true } : {}),
      ...(outputs ? { outputs } : {}),
    },
  };
};
