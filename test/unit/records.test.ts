import churnManifest from '../../models/churn-risk/model.json';
import { modelManifestSchema } from '../../lib/models/manifest';
import { checkRecord, describeIssues } from '../../lib/models/records';
import type { RecordCheck } from '../../lib/models/records';

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

describe('describeIssues', () => {
  it('joins issues as "field: message" pairs', () => {
    const text = describeIssues([
      { field: 'contract', message: 'bad value' },
      { field: 'tenure_months', message: 'too big' },
    ]);

    expect(text).toBe('contract: bad value; tenure_months: too big');
  });
});
