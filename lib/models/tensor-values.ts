import { formatShape } from './signature';
import type { OipDatatype } from './signature';

/**
 * Tensor data as JSON carries it, read into values a tensor can hold: nested arrays flattened in
 * row-major order, and each element checked against its datatype. Pure, for the API and the worker.
 */

/**
 * A tensor's elements, flat and row-major, as JavaScript holds each datatype: `bigint` for INT64
 * and UINT64 (a JSON number loses their precision past 2^53), `boolean` for BOOL, `string` for
 * BYTES, `number` for the rest (FP16 included: it becomes half-floats only on its way to the model).
 */
export type TensorValues = number[] | bigint[] | boolean[] | string[];

export type Read<T> = { ok: true; value: T } | { ok: false; message: string };

/** Deeper nesting than any model's rank is refused before it is walked (recursively). */
const maxRank = 32;

export const elementCount = (shape: readonly number[]): number =>
  shape.reduce((count, size) => count * size, 1);

/**
 * The shape and row-major elements of nested arrays; a value that is not an array is a rank-0
 * tensor. Every array at one depth must have the same length, and leaves must all be at the
 * same depth.
 */
export const flattenNested = (data: unknown): Read<{ shape: number[]; leaves: unknown[] }> => {
  const shape: number[] = [];
  for (let level: unknown = data; Array.isArray(level); level = level[0]) {
    shape.push(level.length);
    if (shape.length > maxRank) {
      return { ok: false, message: `the data nests more than ${maxRank} arrays deep` };
    }
  }
  const leaves: unknown[] = [];
  const walk = (value: unknown, depth: number, path: string): string | undefined => {
    if (depth === shape.length) {
      if (Array.isArray(value)) {
        return `${path || 'the data'} nests deeper than the rest (shape ${formatShape(shape)})`;
      }
      leaves.push(value);
      return undefined;
    }
    if (!Array.isArray(value) || value.length !== shape[depth]) {
      return `the data is ragged: ${path || 'the data'} is ${describeLength(value)}, where its siblings have ${shape[depth]} elements`;
    }
    for (let i = 0; i < value.length; i++) {
      const problem = walk(value[i], depth + 1, `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  };
  const problem = walk(data, 0, '');
  return problem ? { ok: false, message: problem } : { ok: true, value: { shape, leaves } };
};

const describeLength = (value: unknown) =>
  Array.isArray(value) ? `an array of ${value.length}` : `a ${value === null ? 'null' : typeof value}`;

/** Largest magnitude that still rounds to a finite FP16 (65504 is the largest half). */
const fp16Limit = 65520;

const integerRanges = {
  INT8: [-(2 ** 7), 2 ** 7 - 1],
  INT16: [-(2 ** 15), 2 ** 15 - 1],
  INT32: [-(2 ** 31), 2 ** 31 - 1],
  UINT8: [0, 2 ** 8 - 1],
  UINT16: [0, 2 ** 16 - 1],
  UINT32: [0, 2 ** 32 - 1],
} as const;

const bigintRanges = {
  INT64: [-(2n ** 63n), 2n ** 63n - 1n],
  UINT64: [0n, 2n ** 64n - 1n],
} as const;

const show = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value));

/** Why an element is not a value of its datatype (an object: a BYTES element is itself a string). */
interface Invalid {
  invalid: string;
}

const invalid = (message: string): Invalid => ({ invalid: message });

type ElementReader<T> = (value: unknown) => T | Invalid;

const readBool: ElementReader<boolean> = (value) => {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  return invalid(`${show(value)} is not a BOOL (true, false, 0 or 1)`);
};

const readInteger =
  (datatype: keyof typeof integerRanges): ElementReader<number> =>
  (value) => {
    const [min, max] = integerRanges[datatype];
    if (typeof value !== 'number' || !Number.isInteger(value))
      return invalid(`${show(value)} is not an integer`);
    if (value < min || value > max)
      return invalid(`${value} is out of range for ${datatype} [${min}, ${max}]`);
    return value;
  };

/** A JSON number when it is a safe integer, or a decimal string for any value of the type. */
const readBigInteger =
  (datatype: keyof typeof bigintRanges): ElementReader<bigint> =>
  (value) => {
    let parsed: bigint;
    if (typeof value === 'number') {
      if (!Number.isInteger(value)) return invalid(`${value} is not an integer`);
      if (!Number.isSafeInteger(value)) {
        return invalid(`${value} is past 2^53, where JSON numbers lose digits: send it as a decimal string`);
      }
      parsed = BigInt(value);
    } else if (typeof value === 'string' && /^-?\d+$/.test(value)) {
      parsed = BigInt(value);
    } else {
      return invalid(`${show(value)} is not an integer (a JSON number or a decimal string)`);
    }
    const [min, max] = bigintRanges[datatype];
    if (parsed < min || parsed > max)
      return invalid(`${value} is out of range for ${datatype} [${min}, ${max}]`);
    return parsed;
  };

const readFloat =
  (datatype: 'FP16' | 'FP32' | 'FP64'): ElementReader<number> =>
  (value) => {
    if (typeof value !== 'number' || !Number.isFinite(value))
      return invalid(`${show(value)} is not a number`);
    const finite =
      datatype === 'FP16'
        ? Math.abs(value) < fp16Limit
        : datatype === 'FP32'
          ? Number.isFinite(Math.fround(value))
          : true;
    return finite ? value : invalid(`${value} is out of range for ${datatype}`);
  };

const readString: ElementReader<string> = (value) =>
  typeof value === 'string' ? value : invalid(`${show(value)} is not a string`);

const readerOf = (datatype: OipDatatype): ElementReader<number | bigint | boolean | string> => {
  switch (datatype) {
    case 'BOOL':
      return readBool;
    case 'INT8':
    case 'INT16':
    case 'INT32':
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
      return readInteger(datatype);
    case 'INT64':
    case 'UINT64':
      return readBigInteger(datatype);
    case 'FP16':
    case 'FP32':
    case 'FP64':
      return readFloat(datatype);
    case 'BYTES':
      return readString;
  }
};

/**
 * The elements read as the datatype holds them (see TensorValues), or the first one that is not
 * one of its values, by its row-major index.
 */
export const readElements = (datatype: OipDatatype, leaves: readonly unknown[]): Read<TensorValues> => {
  const read = readerOf(datatype);
  const values: unknown[] = [];
  for (let i = 0; i < leaves.length; i++) {
    const value = read(leaves[i]);
    if (typeof value === 'object') return { ok: false, message: `element ${i}: ${value.invalid}` };
    values.push(value);
  }
  // Each reader returns only its datatype's JavaScript type, so the list is one of TensorValues.
  return { ok: true, value: values as TensorValues };
};
