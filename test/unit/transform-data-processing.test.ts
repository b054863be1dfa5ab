/**
 * DataProcessing (InputFilter, JoinSource, OutputFilter) with the semantics of SageMaker Batch Transform:
 * - https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html
 *   ("Batch Transform Examples": output only inferences; output input data and inferences;
 *   an ID column kept in the output and excluded from the input, for CSV and for JSON);
 * - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataProcessing.html
 *   (defaults, the join rules for JSON objects and other JSON values, the 63-character limit,
 *   out-of-range indexes are an error);
 * - the CSV walk-through of aws/amazon-sagemaker-examples,
 *   sagemaker_batch_transform/batch_transform_associate_predictions_with_input
 *   (InputFilter "$[1:]", JoinSource "Input", OutputFilter "$[0,-1]").
 * The one deliberate difference: the prediction goes in `prediction`, not `SageMakerOutput`
 * (and a non-object JSON input in `input`, not `SageMakerInput`).
 */
import { parse } from 'csv-parse/sync';
import { InvalidInput } from '../../lib/errors';
import type { Prediction } from '../../lib/models/tensors';
import {
  MAX_FILTER_LENGTH,
  RecordTransformError,
  compileDataProcessing,
  encodeCsvRow,
  modelInputOf,
  outputRecordOf,
} from '../../lib/transform/data-processing';
import type { DataProcessing } from '../../lib/transform/data-processing';

const prediction: Prediction = { label: 'churn', score: 0.82, scores: { churn: 0.82, stay: 0.18 } };

/** Five CSV columns, the first an ID, as in the guide's CSV example. */
const csvRecord = ['C-1001', '12', '89.5', 'month-to-month', '3'];

const jsonRecord = { id: 'C-1001', features: [12, 89.5, 3], region: 'west' };

const transformError = (act: () => unknown): RecordTransformError => {
  let caught: unknown;
  try {
    act();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(RecordTransformError);
  return caught as RecordTransformError;
};

const invalidInput = (act: () => unknown): InvalidInput => {
  let caught: unknown;
  try {
    act();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidInput);
  return caught as InvalidInput;
};

describe('outputRecordOf: "Output Only Inferences" (the default)', () => {
  it.each<[string, DataProcessing]>([
    ['no options', {}],
    ['the explicit defaults', { inputFilter: '$', joinSource: 'None', outputFilter: '$' }],
  ])('passes the whole CSV record to the model and writes only the prediction, with %s', (_what, options) => {
    const compiled = compileDataProcessing(options);

    expect(modelInputOf(compiled, csvRecord)).toEqual(csvRecord);
    expect(outputRecordOf(compiled, csvRecord, prediction, 'csv')).toEqual(['churn', '0.82']);
  });

  it('writes only the prediction object for a JSON record', () => {
    const compiled = compileDataProcessing({ inputFilter: '$', joinSource: 'None', outputFilter: '$' });

    expect(modelInputOf(compiled, jsonRecord)).toEqual(jsonRecord);
    expect(outputRecordOf(compiled, jsonRecord, prediction, 'jsonl')).toEqual(prediction);
  });
});

describe('outputRecordOf: "Output Input Data and Inferences" (JoinSource Input)', () => {
  const compiled = compileDataProcessing({ joinSource: 'Input' });

  it('appends the prediction cells to the CSV input: [1,2,3] joined with its result', () => {
    const output = outputRecordOf(compiled, ['1', '2', '3'], { ...prediction, label: '1' }, 'csv');

    expect(output).toEqual(['1', '2', '3', '1', '0.82']);
  });

  it('adds the prediction to a JSON object: {"key":1} gets a prediction field', () => {
    const output = outputRecordOf(compiled, { key: 1 }, prediction, 'jsonl');

    expect(output).toEqual({ key: 1, prediction });
    expect(Object.keys(output as object)).toEqual(['key', 'prediction']);
  });

  it.each<[string, unknown]>([
    ['an array', [1, 2, 3]],
    ['a string', 'free text'],
    ['a number', 42],
    ['a boolean', false],
    ['null', null],
  ])('wraps %s (not a key-value object) as { input, prediction }', (_what, record) => {
    expect(outputRecordOf(compiled, record, prediction, 'jsonl')).toEqual({ input: record, prediction });
  });

  it('joins the raw record, not the filtered one', () => {
    const filtered = compileDataProcessing({ inputFilter: '$.features', joinSource: 'Input' });

    expect(outputRecordOf(filtered, jsonRecord, prediction, 'jsonl')).toEqual({ ...jsonRecord, prediction });
  });

  it('does not change the input record', () => {
    const record = { key: 1 };
    const cells = ['1', '2'];

    outputRecordOf(compiled, record, prediction, 'jsonl');
    outputRecordOf(compiled, cells, prediction, 'csv');

    expect(record).toEqual({ key: 1 });
    expect(cells).toEqual(['1', '2']);
  });
});

describe('"Output an ID Column with Results and Exclude the ID Column from the Input (CSV)"', () => {
  it('drops the ID column for the model with InputFilter $[1:] and keeps every column with OutputFilter $', () => {
    const compiled = compileDataProcessing({ inputFilter: '$[1:]', joinSource: 'Input', outputFilter: '$' });

    expect(modelInputOf(compiled, csvRecord)).toEqual(['12', '89.5', 'month-to-month', '3']);
    expect(outputRecordOf(compiled, csvRecord, prediction, 'csv')).toEqual([...csvRecord, 'churn', '0.82']);
  });

  it('keeps the ID and the last cell (the score) with OutputFilter $[0,-1]', () => {
    const compiled = compileDataProcessing({
      inputFilter: '$[1:]',
      joinSource: 'Input',
      outputFilter: '$[0,-1]',
    });

    expect(outputRecordOf(compiled, csvRecord, prediction, 'csv')).toEqual(['C-1001', '0.82']);
  });

  it('keeps the ID, the label and the score with OutputFilter $[0,-2:]', () => {
    const compiled = compileDataProcessing({
      inputFilter: '$[1:]',
      joinSource: 'Input',
      outputFilter: '$[0,-2:]',
    });

    expect(outputRecordOf(compiled, csvRecord, prediction, 'csv')).toEqual(['C-1001', 'churn', '0.82']);
  });

  it('keeps the first column and the sixth onwards with OutputFilter $[0,5:] (API reference)', () => {
    const compiled = compileDataProcessing({
      inputFilter: '$[1:]',
      joinSource: 'Input',
      outputFilter: '$[0,5:]',
    });

    expect(outputRecordOf(compiled, csvRecord, prediction, 'csv')).toEqual(['C-1001', 'churn', '0.82']);
  });

  it('passes the second through fifth columns to the model with InputFilter $[1:4]', () => {
    const compiled = compileDataProcessing({ inputFilter: '$[1:4]' });
    const record = ['id', 'a', 'b', 'c', 'd', 'e', 'f'];

    expect(modelInputOf(compiled, record)).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('"Output an ID Attribute with Results and Exclude the ID Attribute from the Input (JSON)"', () => {
  const compiled = compileDataProcessing({
    inputFilter: '$.features',
    joinSource: 'Input',
    outputFilter: "$['id','prediction']",
  });

  it('passes only the features to the model', () => {
    expect(modelInputOf(compiled, jsonRecord)).toEqual([12, 89.5, 3]);
  });

  it('writes the id and the prediction', () => {
    expect(outputRecordOf(compiled, jsonRecord, prediction, 'jsonl')).toEqual({ id: 'C-1001', prediction });
  });
});

describe('outputRecordOf without a join', () => {
  it('filters the prediction object', () => {
    const compiled = compileDataProcessing({ outputFilter: '$.label' });

    expect(outputRecordOf(compiled, jsonRecord, prediction, 'jsonl')).toBe('churn');
  });

  it("filters the prediction's fields by name", () => {
    const compiled = compileDataProcessing({ outputFilter: "$['label','score']" });

    expect(outputRecordOf(compiled, jsonRecord, prediction, 'jsonl')).toEqual({
      label: 'churn',
      score: 0.82,
    });
  });

  it('gives a one-cell CSV row when the filter selects one cell', () => {
    const compiled = compileDataProcessing({ outputFilter: '$[0]' });

    expect(outputRecordOf(compiled, csvRecord, prediction, 'csv')).toEqual(['churn']);
  });
});

describe('outputRecordOf: the score as a CSV cell', () => {
  const compiled = compileDataProcessing({});

  it.each([
    [1, '1'],
    [0, '0'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1e-7, '1e-7'],
    [0.5, '0.5'],
  ])('writes %s as "%s"', (score, cell) => {
    expect(outputRecordOf(compiled, csvRecord, { ...prediction, score }, 'csv')).toEqual(['churn', cell]);
  });
});

describe('per-record failures', () => {
  it('fails a record whose JSON lacks the field the input filter names', () => {
    const compiled = compileDataProcessing({ inputFilter: '$.features' });

    const error = transformError(() => modelInputOf(compiled, { id: 'C-1' }));

    expect(error.code).toBe('FILTER_SELECTED_NOTHING');
    expect(error.message).toBe(
      'inputFilter "$.features" selects nothing in the record: there is no field "features".',
    );
  });

  it('fails a CSV row too short for the input filter', () => {
    const compiled = compileDataProcessing({ inputFilter: '$[1:]' });

    const error = transformError(() => modelInputOf(compiled, ['only-an-id']));

    expect(error.code).toBe('FILTER_SELECTED_NOTHING');
    expect(error.message).toContain('index 1 is outside an array of 1 item');
  });

  it('fails a record when the output filter names an index outside the joined record', () => {
    const compiled = compileDataProcessing({ joinSource: 'Input', outputFilter: '$[0,9]' });

    const error = transformError(() => outputRecordOf(compiled, ['a', 'b'], prediction, 'csv'));

    expect(error.code).toBe('FILTER_SELECTED_NOTHING');
    expect(error.message).toBe(
      'outputFilter "$[0,9]" selects nothing in the joined record: index 9 is outside an array of 4 items.',
    );
  });

  it('fails a record whose output filter names a field the joined record lacks', () => {
    const compiled = compileDataProcessing({ joinSource: 'Input', outputFilter: "$['id','prediction']" });

    const error = transformError(() => outputRecordOf(compiled, { customer: 'C-1' }, prediction, 'jsonl'));

    expect(error.code).toBe('FILTER_SELECTED_NOTHING');
  });

  it('fails a JSON record that already has a prediction field rather than overwrite it', () => {
    const compiled = compileDataProcessing({ joinSource: 'Input' });

    const error = transformError(() =>
      outputRecordOf(compiled, { id: 1, prediction: 'old' }, prediction, 'jsonl'),
    );

    expect(error.code).toBe('JOIN_NOT_POSSIBLE');
    expect(error.message).toContain('"prediction"');
  });

  it('fails a CSV record that is not a row of cells', () => {
    const compiled = compileDataProcessing({ joinSource: 'Input' });

    const error = transformError(() => outputRecordOf(compiled, 'a,b', prediction, 'csv'));

    expect(error.code).toBe('JOIN_NOT_POSSIBLE');
  });

  it('names the error class so logs and failure files can tell it apart', () => {
    const error = new RecordTransformError('JOIN_NOT_POSSIBLE', 'x');

    expect(error.name).toBe('RecordTransformError');
    expect(error).toBeInstanceOf(Error);
  });
});

describe('compileDataProcessing', () => {
  it('uses $ and None when options are left out', () => {
    const compiled = compileDataProcessing({});

    expect(compiled.inputFilter.expression).toBe('$');
    expect(compiled.outputFilter.expression).toBe('$');
    expect(compiled.joinSource).toBe('None');
  });

  it.each([
    ['inputFilter', { inputFilter: '$..features' }],
    ['outputFilter', { outputFilter: '$[?(@.score > 0.5)]' }],
  ])('rejects an unsupported %s with INVALID_FILTER, naming the option', (option, options) => {
    const error = invalidInput(() => compileDataProcessing(options));

    expect(error.code).toBe('INVALID_FILTER');
    expect(error.message.startsWith(`${option}: `)).toBe(true);
    expect(error.message).toContain('Supported:');
    expect(error.details).toMatchObject({ option });
  });

  it('rejects an empty filter', () => {
    const error = invalidInput(() => compileDataProcessing({ inputFilter: '' }));

    expect(error.code).toBe('INVALID_FILTER');
  });

  it(`accepts filters of ${MAX_FILTER_LENGTH} characters and rejects longer ones`, () => {
    const name = (length: number) => `$.${'a'.repeat(length - 2)}`;

    expect(
      compileDataProcessing({ outputFilter: name(MAX_FILTER_LENGTH) }).outputFilter.expression,
    ).toHaveLength(63);
    const error = invalidInput(() => compileDataProcessing({ outputFilter: name(MAX_FILTER_LENGTH + 1) }));
    expect(error.code).toBe('INVALID_FILTER');
    expect(error.message).toContain('at most 63');
  });

  it('rejects a join source other than Input or None', () => {
    const options = { joinSource: 'Output' } as unknown as DataProcessing;

    const error = invalidInput(() => compileDataProcessing(options));

    expect(error.code).toBe('INVALID_JOIN_SOURCE');
  });

  it('rejects a filter that selects by name for CSV input, where each row is an array', () => {
    const error = invalidInput(() => compileDataProcessing({ inputFilter: '$.features' }, 'csv'));

    expect(error.code).toBe('INVALID_FILTER');
    expect(error.message).toContain('use indexes');
  });

  it('accepts index filters for CSV and name filters for JSON Lines', () => {
    expect(() =>
      compileDataProcessing({ inputFilter: '$[1:]', outputFilter: '$[0,-1]' }, 'csv'),
    ).not.toThrow();
    expect(() =>
      compileDataProcessing({ inputFilter: '$.features', outputFilter: "$['id','prediction']" }, 'jsonl'),
    ).not.toThrow();
  });
});

describe('encodeCsvRow', () => {
  it('joins plain cells with commas', () => {
    expect(encodeCsvRow(['a', 'b', 'c'])).toBe('a,b,c');
  });

  it.each([
    ['a comma', 'a,b', '"a,b"'],
    ['a double quote', 'say "hi"', '"say ""hi"""'],
    ['a line feed', 'line1\nline2', '"line1\nline2"'],
    ['a carriage return', 'line1\rline2', '"line1\rline2"'],
    ['a CRLF', 'line1\r\nline2', '"line1\r\nline2"'],
  ])('quotes a cell with %s', (_what, cell, encoded) => {
    expect(encodeCsvRow(['x', cell])).toBe(`x,${encoded}`);
  });

  it('leaves spaces and other punctuation unquoted', () => {
    expect(encodeCsvRow([' padded ', "it's", 'a;b', 'tab\there'])).toBe(" padded ,it's,a;b,tab\there");
  });

  it('writes numbers, booleans and bigints with String, and null or undefined as empty cells', () => {
    expect(encodeCsvRow([1, 0.82, -0, 1e21, true, false, 10n, null, undefined])).toBe(
      '1,0.82,0,1e+21,true,false,10,,',
    );
  });

  it('writes objects and arrays as quoted JSON', () => {
    expect(encodeCsvRow([{ churn: 0.82, stay: 0.18 }, [1, 2]])).toBe(
      '"{""churn"":0.82,""stay"":0.18}","[1,2]"',
    );
  });

  it('writes an empty row as an empty string and a row of one empty cell as ""', () => {
    expect(encodeCsvRow([])).toBe('');
    expect(encodeCsvRow([''])).toBe('""');
    expect(encodeCsvRow([null])).toBe('""');
    expect(encodeCsvRow(['', ''])).toBe(',');
  });

  it('round-trips through an RFC 4180 parser', () => {
    const rows = [
      ['plain', 'with,comma', 'with "quotes"', 'multi\nline', 'cr\rlf\r\n', '', ' spaced '],
      ['"', '""', ',', '\n', 'é ü 中文', "'single'"],
      [''],
      ['', ''],
      ['last'],
    ];

    const text = rows.map(encodeCsvRow).join('\n') + '\n';
    const parsed = parse(text, { relax_column_count: true }) as string[][];

    expect(parsed).toEqual(rows);
  });

  it('round-trips a joined record written by outputRecordOf', () => {
    const compiled = compileDataProcessing({ joinSource: 'Input' });
    const record = ['C-1', 'Main St, Springfield', 'said "no"'];

    const line = encodeCsvRow(outputRecordOf(compiled, record, prediction, 'csv') as unknown[]);

    expect(parse(line)).toEqual([[...record, 'churn', '0.82']]);
  });
});
