import type { Tensor } from 'onnxruntime-node';
import type { OipDatatype } from '../../lib/models/signature';
import type { TensorValues } from '../../lib/models/tensor-values';
import { floatToHalf, halfToFloat } from './float16';

/**
 * Tensor elements between the JavaScript values of a checked record and the typed arrays ONNX
 * Runtime takes and gives, and from those to JSON for results.
 */

/** One element of a result as JSON writes it. */
export type JsonScalar = number | string | boolean;

/** The typed array of each datatype whose elements a record holds as numbers, as they are. */
const numberArrays = {
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  FP32: Float32Array,
  FP64: Float64Array,
} as const;

/**
 * A checked record's elements as ONNX Runtime takes them. checkTensorRecord gives each datatype's
 * values as one JavaScript type (see TensorValues), which the casts below rely on.
 */
export const toOrtData = (datatype: OipDatatype, values: TensorValues): Tensor.DataType => {
  switch (datatype) {
    case 'BOOL':
      return Uint8Array.from(values as boolean[], (value) => (value ? 1 : 0));
    case 'FP16':
      return Uint16Array.from(values as number[], floatToHalf);
    case 'INT64':
      return BigInt64Array.from(values as bigint[]);
    case 'UINT64':
      return BigUint64Array.from(values as bigint[]);
    case 'BYTES':
      return [...(values as string[])];
    default:
      return numberArrays[datatype].from(values as number[]);
  }
};

/**
 * JSON has no NaN or infinities: a model that gives one is answered with the string "NaN",
 * "Infinity" or "-Infinity" (a record cannot send them back: its float elements are numbers).
 */
const nonFinite = (value: number): string => String(value);

/**
 * The shortest decimal that reads back as the same value of a narrower float, so that a float32
 * 0.1 is written 0.1 and not 0.10000000149011612 (its exact value as a double), as numpy prints it.
 */
const shortest = (value: number, digits: number, same: (candidate: number) => boolean): number | string => {
  if (!Number.isFinite(value)) return nonFinite(value);
  for (let precision = 1; precision < digits; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (same(candidate)) return candidate;
  }
  return Number(value.toPrecision(digits));
};

const float32Json = (value: number) => shortest(value, 9, (candidate) => Math.fround(candidate) === value);

const float16Json = (bits: number) =>
  shortest(halfToFloat(bits), 5, (candidate) => floatToHalf(candidate) === bits);

const float64Json = (value: number) => (Number.isFinite(value) ? value : nonFinite(value));

/**
 * INT64 and UINT64 go out as JSON numbers while they are safe integers, and as decimal strings past
 * 2^53, where a JSON number would silently lose digits (records take both forms back).
 */
const bigIntegerJson = (value: bigint): number | string => {
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : value.toString();
};

/**
 * An ONNX Runtime output's elements as JSON, by the protocol datatype: FP16 as numbers, BOOL as
 * true/false, INT64/UINT64 as above, floats as their shortest decimals (NaN and infinities as strings).
 */
export const jsonOfOrtData = (datatype: OipDatatype, data: Tensor.DataType): JsonScalar[] => {
  const elements = Array.from(data as ArrayLike<number | bigint | string>);
  switch (datatype) {
    case 'BOOL':
      return elements.map((value) => value !== 0);
    case 'INT64':
    case 'UINT64':
      return elements.map((value) => bigIntegerJson(value as bigint));
    case 'FP16':
      return elements.map((value) => float16Json(value as number));
    case 'FP32':
      return elements.map((value) => float32Json(value as number));
    case 'FP64':
      return elements.map((value) => float64Json(value as number));
    case 'BYTES':
      return elements as string[];
    default:
      return elements as number[];
  }
};
