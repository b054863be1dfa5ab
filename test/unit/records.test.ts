import churnManifest from '../../models/churn-risk/model.json';
import { modelManifestSchema } from '../../lib/models/manifest';
import { checkRecord, describeIssues, recordSchemaOf, toModelRecord } from '../../lib/models/record-schema';
import { mulberry32 } from '../../lib/seeded-random';
import textOrientationManifest from '../../models/text-orientation/model.json';
import type { RecordCheck } from '../../lib/models/record-schema';

const manifest = modelManifestSchema.parse(churnManifest);

const validRecord = () => ({ ...(manifest.example as Record<string, unknown>) });

const issuesOf = (check: RecordCheck) => (check.ok ? [] : check.issues);
const fieldsOf = (check: RecordCheck) => issuesOf(check).map((issue) => issue.field);

describe('checkRecord', () => {
  it("accepts the manifest's own example record", () => {
    const check = checkRecord(manifest, manifest.example);

    expect(check).toEqual({ ok: true, record: manifest.example });
  });

  it('carries fields the model does not read', () => {
    const record = { ...validRecord(), customer_id: 'C-1001', region: 'west' };

    const check = checkRecord(manifest, record);

    expect(check.ok).toBe(true);
    expect(check.ok && check.record).toMatchObject({ customer_id: 'C-1001', region: 'west' });
  });

  it('names the field whose value has the wrong type', () => {
    const record = { ...validRecord(), monthly_charges: '89.50' };

    const check = checkRecord(manifest, record);

    expect(check.ok).toBe(false);
    expect(fieldsOf(check)).toEqual(['monthly_charges']);
  });

  it('rejects a fractional value for an integer field', () => {
    const check = checkRecord(manifest, { ...validRecord(), support_calls: 2.5 });

    expect(fieldsOf(check)).toEqual(['support_calls']);
  });

  it.each([
    ['tenure_months', -1],
    ['tenure_months', 73],
    ['monthly_charges', 17.99],
    ['monthly_charges', 120.01],
    ['support_calls', 11],
  ])('rejects %s = %s as out of range', (field, value) => {
    const check = checkRecord(manifest, { ...validRecord(), [field]: value });

    expect(fieldsOf(check)).toEqual([field]);
  });

  it('accepts values on the bounds of a range', () => {
    const record = { ...validRecord(), tenure_months: 72, monthly_charges: 18, support_calls: 0 };

    expect(checkRecord(manifest, record).ok).toBe(true);
  });

  it('rejects a category value the manifest does not list', () => {
    const check = checkRecord(manifest, { ...validRecord(), contract: 'three-year' });

    expect(fieldsOf(check)).toEqual(['contract']);
  });

  it('rejects a boolean field sent as a string', () => {
    const check = checkRecord(manifest, { ...validRecord(), paperless_billing: 'yes' });

    expect(fieldsOf(check)).toEqual(['paperless_billing']);
  });

  it('names every missing field', () => {
    const { contract: _contract, senior_citizen: _senior, ...record } = validRecord();

    const check = checkRecord(manifest, record);

    expect(fieldsOf(check).sort()).toEqual(['contract', 'senior_citizen']);
  });

  it.each([null, 'a string', 42, [1, 2]])('reports %p as a problem with the whole record', (value) => {
    const check = checkRecord(manifest, value);

    expect(check.ok).toBe(false);
    expect(fieldsOf(check)).toContain('(record)');
  });
});

describe('checkRecord’s fast test and zod agree', () => {
  const imageManifest = modelManifestSchema.parse(textOrientationManifest);
  const values: unknown[] = [
    0,
    -1,
    1.5,
    42,
    1e9,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 60,
    '12',
    '',
    'yes',
    true,
    false,
    null,
    undefined,
    [],
    {},
    'month-to-month',
    'one_year',
    'two_year',
    'Month-to-month',
    'iVBORw0KGgo=',
    'data:image/png;base64,iVBORw0KGgo=',
    'not base64!',
    'x'.repeat(2_000_000),
  ];
  const random = mulberry32(11);
  const pick = () => values[Math.floor(random() * values.length)];

  it.each([
    ['churn-risk', manifest],
    ['text-orientation', imageManifest],
  ])('on random records for %s: the same verdict, and zod’s issues when it fails', (_name, model) => {
    for (let i = 0; i < 3000; i++) {
      const record: Record<string, unknown> = Object.fromEntries(
        model.fields.map((field) => [
          field.name,
          random() < 0.7 ? (model.example as Record<string, unknown>)[field.name] : pick(),
        ]),
      );
      if (random() < 0.1) delete record[model.fields[0]!.name];
      const zod = recordSchemaOf(model).safeParse(record);
      const check = checkRecord(model, record);

      expect([check.ok, check.ok ? 0 : check.issues.length]).toEqual([
        zod.success,
        zod.error?.issues.length ?? 0,
      ]);
    }
  });
});

describe('describeIssues', () => {
  it('joins issues as "field: message" pairs', () => {
    const text = describeIssues([
      { field: 'contract', message: 'bad value' },
      { field: 'tenure_months', message: 'too big' },
    ]);

    expect(text).toBe('contract: bad value; tenure_months: too big');
  });
});

describe('toModelRecord', () => {
  const fieldNames = manifest.fields.map((field) => field.name);
  const example = manifest.example as Record<string, unknown>;
  /** The example record as CSV cells, in the order of `names`. */
  const cellsOf = (names: string[]) => names.map((name) => String(example[name]));

  it('reads an object by field name, as checkRecord does', () => {
    expect(toModelRecord(manifest, validRecord())).toEqual(checkRecord(manifest, validRecord()));
  });

  it('reads a row by position, in the manifest’s field order, when there is no header', () => {
    const check = toModelRecord(manifest, cellsOf(fieldNames));

    expect(check).toEqual({ ok: true, record: example });
  });

  it("reads a row by the header's names, whatever the column order", () => {
    const header = [...fieldNames].reverse();

    const check = toModelRecord(manifest, cellsOf(header), header);

    expect(check).toEqual({ ok: true, record: example });
  });

  it('trims header names and carries columns the model does not read', () => {
    const header = [' customer_id ', ...fieldNames.map((name) => ` ${name}`)];

    const check = toModelRecord(manifest, ['C-1001', ...cellsOf(fieldNames)], header);

    expect(check).toEqual({ ok: true, record: { customer_id: 'C-1001', ...example } });
  });

  it('reads by position when the row is not as wide as the header (an input filter took columns out)', () => {
    const header = ['customer_id', ...fieldNames];

    const check = toModelRecord(manifest, cellsOf(fieldNames), header);

    expect(check).toEqual({ ok: true, record: example });
  });

  it('fails a row of the wrong width, saying how many values it expects and which', () => {
    const check = toModelRecord(manifest, ['7', '89.5', '3']);

    expect(check).toEqual({
      ok: false,
      issues: [
        {
          field: '(record)',
          message: `expected 6 values (${fieldNames.join(', ')}), got 3`,
        },
      ],
    });
  });

  it.each([
    ['an integer', 'tenure_months', ' 12 ', 12],
    ['a number', 'monthly_charges', '89.50', 89.5],
    ['a number in exponent form', 'monthly_charges', '1e2', 100],
    ['a boolean written true', 'paperless_billing', 'true', true],
    ['a boolean written 1', 'paperless_billing', '1', true],
    ['a boolean written Yes', 'senior_citizen', 'Yes', true],
    ['a boolean written f', 'senior_citizen', 'f', false],
    ['a boolean written 0', 'paperless_billing', '0', false],
    ['a category with spaces around it', 'contract', ' one-year ', 'one-year'],
  ])('reads a CSV cell holding %s as its field type', (_what, field, cell, value) => {
    const cells = cellsOf(fieldNames);
    cells[fieldNames.indexOf(field)] = cell;

    const check = toModelRecord(manifest, cells);

    expect(check.ok && check.record[field]).toBe(value);
  });

  it.each([
    ['an empty number cell', 'monthly_charges', ''],
    ['a number cell that is not a number', 'monthly_charges', '89,50'],
    ['an integer cell with a fraction', 'tenure_months', '7.5'],
    ['a boolean cell that is not a boolean', 'senior_citizen', 'maybe'],
    ['a category that is not one of its values', 'contract', 'weekly'],
    ['a number out of range', 'tenure_months', '99'],
  ])('fails %s, naming the field', (_what, field, cell) => {
    const cells = cellsOf(fieldNames);
    cells[fieldNames.indexOf(field)] = cell;

    const check = toModelRecord(manifest, cells);

    expect(fieldsOf(check)).toEqual([field]);
  });

  it('leaves the values of a JSON array as they are: only strings are coerced', () => {
    const check = toModelRecord(manifest, [7, 89.5, 3, 'month-to-month', true, false]);

    expect(check).toEqual({ ok: true, record: example });
  });
});
