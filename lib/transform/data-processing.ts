import { InvalidInput } from '../errors';
import { isPrediction } from '../models/tensors';
import type { ModelOutput } from '../models/tensors';
import { parseJsonPath, trySelectPath } from './jsonpath';
import type { CompiledJsonPath } from './jsonpath';

/**
 * SageMaker Batch Transform's `DataProcessing` options, with the semantics of
 * https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html and
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataProcessing.html:
 *
 * 1. `inputFilter` (default `$`) selects what the model reads from each raw record.
 * 2. `joinSource: 'Input'` joins the raw (unfiltered) record with the prediction:
 *    - CSV: the record's cells followed by the prediction's cells `[label, score]`;
 *    - JSON object: the record's fields plus a `prediction` field (SageMaker calls it
 *      `SageMakerOutput`; the name is the one deliberate difference);
 *    - any other JSON value (array, string, number, boolean, null): a new object
 *      `{ input: <record>, prediction: <prediction> }` (SageMaker's `SageMakerInput`/`SageMakerOutput`).
 *    Without a join the "joined" record is the prediction alone.
 * 3. `outputFilter` (default `$`) selects what is written from the joined record.
 */
export interface DataProcessing {
  inputFilter?: string;
  outputFilter?: string;
  joinSource?: 'Input' | 'None';
}

export type RecordFormat = 'csv' | 'jsonl';

export interface CompiledDataProcessing {
  readonly inputFilter: CompiledJsonPath;
  readonly outputFilter: CompiledJsonPath;
  readonly joinSource: 'Input' | 'None';
}

/** Field that holds the prediction in a joined JSON record. */
export const PREDICTION_FIELD = 'prediction';
/** Field that holds a non-object JSON input in a joined record. */
export const INPUT_FIELD = 'input';
/** The API reference's length limit for `InputFilter` and `OutputFilter`. */
export const MAX_FILTER_LENGTH = 63;

export type RecordTransformErrorCode = 'FILTER_SELECTED_NOTHING' | 'JOIN_NOT_POSSIBLE';

/** One record could not be filtered or joined: the worker writes it to the failure file and goes on. */
export class RecordTransformError extends Error {
  override name = 'RecordTransformError';
  readonly code: RecordTransformErrorCode;

  constructor(code: RecordTransformErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const compileFilter = (
  option: 'inputFilter' | 'outputFilter',
  expression: string | undefined,
  format: RecordFormat | undefined,
): CompiledJsonPath => {
  if (expression === undefined) return parseJsonPath('$');
  if (expression.length > MAX_FILTER_LENGTH) {
    throw new InvalidInput(
      'INVALID_FILTER',
      `${option} is ${expression.length} characters long; at most ${MAX_FILTER_LENGTH} are allowed.`,
      { option },
    );
  }
  let path: CompiledJsonPath;
  try {
    path = parseJsonPath(expression);
  } catch (error) {
    if (error instanceof InvalidInput) {
      throw new InvalidInput(error.code, `${option}: ${error.message}`, {
        option,
        ...(error.details as object),
      });
    }
    throw error;
  }
  if (format === 'csv' && path.usesNames) {
    throw new InvalidInput(
      'INVALID_FILTER',
      `${option}: "${expression}" selects fields by name, but a CSV row is an array of cells: ` +
        'use indexes such as $[0], $[1:] or $[0,-1].',
      { option, expression },
    );
  }
  return path;
};

/**
 * Parses both filters once. Throws `InvalidInput('INVALID_FILTER')` (or `INVALID_JOIN_SOURCE`) so a
 * job can be rejected when it is submitted. Given the input format, it also rejects name-based
 * filters for CSV, which could never select anything in a row.
 */
export const compileDataProcessing = (
  options: DataProcessing,
  format?: RecordFormat,
): CompiledDataProcessing => {
  const joinSource = options.joinSource ?? 'None';
  if (joinSource !== 'Input' && joinSource !== 'None') {
    throw new InvalidInput(
      'INVALID_JOIN_SOURCE',
      `joinSource must be "Input" or "None", not "${String(joinSource)}".`,
    );
  }
  return {
    inputFilter: compileFilter('inputFilter', options.inputFilter, format),
    outputFilter: compileFilter('outputFilter', options.outputFilter, format),
    joinSource,
  };
};

const select = (path: CompiledJsonPath, option: string, value: unknown, what: string): unknown => {
  const selection = trySelectPath(path, value);
  if (!selection.ok) {
    throw new RecordTransformError(
      'FILTER_SELECTED_NOTHING',
      `${option} "${path.expression}" selects nothing in the ${what}: ${selection.reason}.`,
    );
  }
  return selection.value;
};

/** What the model reads: the input filter applied to the raw record (CSV cells or a JSON value). */
export const modelInputOf = (compiled: CompiledDataProcessing, record: unknown): unknown =>
  select(compiled.inputFilter, 'inputFilter', record, 'record');

/**
 * A prediction as CSV cells: the label, then the score as the shortest round-trip decimal. A
 * tensor model's outputs have no label: they go in one cell, as JSON.
 */
export const predictionCells = (prediction: ModelOutput): string[] =>
  isPrediction(prediction) ? [prediction.label, String(prediction.score)] : [JSON.stringify(prediction)];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const joined = (record: unknown, prediction: ModelOutput, format: RecordFormat): unknown => {
  if (format === 'csv') {
    if (!Array.isArray(record)) {
      throw new RecordTransformError('JOIN_NOT_POSSIBLE', 'A CSV record must be a row of cells to join it.');
    }
    return [...(record as unknown[]), ...predictionCells(prediction)];
  }
  if (!isObject(record)) return { [INPUT_FIELD]: record, [PREDICTION_FIELD]: prediction };
  if (Object.hasOwn(record, PREDICTION_FIELD)) {
    throw new RecordTransformError(
      'JOIN_NOT_POSSIBLE',
      `The record already has a "${PREDICTION_FIELD}" field, which joining with the input reserves ` +
        'for the prediction: rename it in the input.',
    );
  }
  return { ...record, [PREDICTION_FIELD]: prediction };
};

/**
 * `$['a','b']` over a JSON record joined with its prediction, without building the joined
 * record: the common "keep the id with the prediction" case, run once per record. Undefined when
 * it does not apply; the general path then gives the same result (or error).
 */
const pickFromJoined = (
  compiled: CompiledDataProcessing,
  record: unknown,
  prediction: ModelOutput,
): Record<string, unknown> | undefined => {
  const [only, ...rest] = compiled.outputFilter.segments;
  if (compiled.joinSource !== 'Input' || only?.kind !== 'names' || rest.length > 0) return undefined;
  if (!isObject(record) || Object.hasOwn(record, PREDICTION_FIELD)) return undefined;
  const picked: Record<string, unknown> = {};
  for (const name of only.names) {
    if (name === PREDICTION_FIELD) picked[name] = prediction;
    else if (Object.hasOwn(record, name) && name !== '__proto__') picked[name] = record[name];
    else return undefined;
  }
  return picked;
};

/**
 * What is written for one record: the prediction (joined with the raw record when
 * `joinSource` is `Input`), then the output filter. CSV results are always a row of cells: a filter
 * that selects one cell (`$[0]`) gives a one-cell row. Throws `RecordTransformError`.
 */
export const outputRecordOf = (
  compiled: CompiledDataProcessing,
  record: unknown,
  prediction: ModelOutput,
  format: RecordFormat,
): unknown => {
  const picked = format === 'csv' ? undefined : pickFromJoined(compiled, record, prediction);
  if (picked) return picked;
  const full =
    compiled.joinSource === 'Input'
      ? joined(record, prediction, format)
      : format === 'csv'
        ? predictionCells(prediction)
        : prediction;
  const what = compiled.joinSource === 'Input' ? 'joined record' : 'prediction';
  const selected = select(compiled.outputFilter, 'outputFilter', full, what);
  return format === 'csv' && !Array.isArray(selected) ? [selected] : selected;
};

const csvCell = (cell: unknown): string => {
  if (cell === null || cell === undefined) return '';
  const text =
    typeof cell === 'string'
      ? cell
      : typeof cell === 'object'
        ? JSON.stringify(cell)
        : String(cell as number | boolean | bigint);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/**
 * One CSV row, without the line ending (RFC 4180): a cell with a comma, double quote, CR or LF
 * is quoted and its quotes doubled; numbers, booleans and bigints go through String, objects and
 * arrays through JSON, null and undefined are empty. A row of one empty cell is written `""` so
 * that it is not an empty line.
 */
export const encodeCsvRow = (cells: unknown[]): string => {
  if (cells.length === 1 && csvCell(cells[0]) === '') return '""';
  return cells.map(csvCell).join(',');
};
