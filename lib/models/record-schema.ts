import { z } from 'zod';
import { imageDataUrlPrefix } from './manifest';
import type { ModelManifest, RecordField } from './manifest';

const base64Image = new RegExp(`^(${imageDataUrlPrefix})?[A-Za-z0-9+/]+={0,2}$`, 'i');

/** A record's fields as the model reads them; extra fields are carried but not used. */
export type ModelRecord = Record<string, unknown>;

const fieldSchema = (field: RecordField): z.ZodType => {
  switch (field.type) {
    case 'number': {
      let schema = z.number();
      if (field.minimum !== undefined) schema = schema.min(field.minimum);
      if (field.maximum !== undefined) schema = schema.max(field.maximum);
      return schema;
    }
    case 'integer': {
      let schema = z.number().int();
      if (field.minimum !== undefined) schema = schema.min(field.minimum);
      if (field.maximum !== undefined) schema = schema.max(field.maximum);
      return schema;
    }
    case 'boolean':
      return z.boolean();
    case 'category':
      return z.enum(field.values as [string, ...string[]]);
    case 'image':
      // Base64 (or a base64 data URL) no longer than maxBytes once decoded; whether it really is
      // an image is found when the worker decodes it.
      return z
        .string()
        .max(Math.ceil(field.maxBytes / 3) * 4 + 64, `the image is larger than ${field.maxBytes} bytes`)
        .regex(base64Image, 'expected a base64-encoded image (PNG, JPEG, WebP or TIFF)');
  }
};

const schemaCache = new WeakMap<ModelManifest, z.ZodType<ModelRecord>>();

/** The zod schema a record must satisfy to be run through this model. */
export const recordSchemaOf = (manifest: ModelManifest): z.ZodType<ModelRecord> => {
  let schema = schemaCache.get(manifest);
  if (!schema) {
    const shape = Object.fromEntries(manifest.fields.map((field) => [field.name, fieldSchema(field)]));
    schema = z.looseObject(shape) as unknown as z.ZodType<ModelRecord>;
    schemaCache.set(manifest, schema);
  }
  return schema;
};

export interface RecordIssue {
  field: string;
  message: string;
}

export type RecordCheck = { ok: true; record: ModelRecord } | { ok: false; issues: RecordIssue[] };

/** The same test as a field's zod schema, as one plain predicate: the check every record passes through. */
const fieldTestOf = (field: RecordField): ((value: unknown) => boolean) => {
  const { minimum, maximum } = field as { minimum?: number; maximum?: number };
  const inRange = (value: number) =>
    (minimum === undefined || value >= minimum) && (maximum === undefined || value <= maximum);
  switch (field.type) {
    case 'number':
      return (value) => typeof value === 'number' && Number.isFinite(value) && inRange(value);
    case 'integer':
      return (value) => typeof value === 'number' && Number.isSafeInteger(value) && inRange(value);
    case 'boolean':
      return (value) => typeof value === 'boolean';
    case 'category': {
      const values = new Set<unknown>(field.values);
      return (value) => values.has(value);
    }
    case 'image': {
      const maxLength = Math.ceil(field.maxBytes / 3) * 4 + 64;
      return (value) => typeof value === 'string' && value.length <= maxLength && base64Image.test(value);
    }
  }
};

const recordTestCache = new WeakMap<ModelManifest, (record: Record<string, unknown>) => boolean>();

/** Whether a record is valid, without building anything: zod then runs only on a record that is not. */
const recordTestOf = (manifest: ModelManifest) => {
  let test = recordTestCache.get(manifest);
  if (!test) {
    const fields = manifest.fields.map((field) => ({ name: field.name, test: fieldTestOf(field) }));
    test = (record) => fields.every(({ name, test: passes }) => passes(record[name]));
    recordTestCache.set(manifest, test);
  }
  return test;
};

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Checks a record against the model's fields. Valid records (nearly all) pass a plain predicate
 * and are returned as they are; only an invalid one is run through zod, for its issues' messages.
 */
export const checkRecord = (manifest: ModelManifest, value: unknown): RecordCheck => {
  if (isPlainObject(value) && recordTestOf(manifest)(value)) return { ok: true, record: value };
  const result = recordSchemaOf(manifest).safeParse(value);
  if (result.success) return { ok: true, record: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({
      field: issue.path.join('.') || '(record)',
      message: issue.message,
    })),
  };
};

/** One-line summary of a record's problems, for error messages. */
export const describeIssues = (issues: RecordIssue[]) =>
  issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');

const parseBoolean = (text: string): boolean | string => {
  const lower = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'y', 't'].includes(lower)) return true;
  if (['false', '0', 'no', 'n', 'f'].includes(lower)) return false;
  return text;
};

/** CSV cells are strings: read them as the field's type (a cell that does not parse stays a string and fails validation). */
const coerceCell = (field: RecordField, value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  switch (field.type) {
    case 'number':
    case 'integer': {
      const trimmed = value.trim();
      const parsed = trimmed === '' ? Number.NaN : Number(trimmed);
      return Number.isFinite(parsed) ? parsed : value;
    }
    case 'boolean':
      return parseBoolean(value);
    case 'category':
    case 'image':
      return value.trim();
  }
};

/**
 * What the model reads from one record, after the input filter: an object is taken by field
 * name; a row (CSV cells, a JSON array) by the CSV header's names when it has as many cells, else
 * by position in the manifest's field order. String cells are read as their field's type.
 */
export const toModelRecord = (manifest: ModelManifest, value: unknown, header?: string[]): RecordCheck => {
  if (!Array.isArray(value)) return checkRecord(manifest, value);
  const names = header && header.length === value.length ? header : undefined;
  if (!names && value.length !== manifest.fields.length) {
    return {
      ok: false,
      issues: [
        {
          field: '(record)',
          message: `expected ${manifest.fields.length} values (${manifest.fields.map((f) => f.name).join(', ')}), got ${value.length}`,
        },
      ],
    };
  }
  const columns = columnsOf(manifest, names);
  const record: ModelRecord = {};
  for (let i = 0; i < value.length; i++) {
    const { name, field } = columns[i]!;
    const cell: unknown = value[i];
    record[name] = field ? coerceCell(field, cell) : cell;
  }
  return checkRecord(manifest, record);
};

const columnsCache = new WeakMap<ModelManifest, WeakMap<string[], Column[]> & { byPosition?: Column[] }>();

interface Column {
  name: string;
  field?: RecordField;
}

/** Each cell's name and field: by the header's names, or by position. Worked out once per header, not per row. */
const columnsOf = (manifest: ModelManifest, header: string[] | undefined): Column[] => {
  let cache = columnsCache.get(manifest);
  if (!cache) {
    cache = new WeakMap();
    columnsCache.set(manifest, cache);
  }
  const cached = header ? cache.get(header) : cache.byPosition;
  if (cached) return cached;
  const byName = new Map(manifest.fields.map((field) => [field.name, field]));
  const names = header ? header.map((name) => name.trim()) : manifest.fields.map((field) => field.name);
  const columns = names.map((name) => ({ name, field: byName.get(name) }));
  if (header) cache.set(header, columns);
  else cache.byPosition = columns;
  return columns;
};
