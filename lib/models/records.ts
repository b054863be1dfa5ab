import { z } from 'zod';
import type { ModelManifest, RecordField } from './manifest';

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

export const checkRecord = (manifest: ModelManifest, value: unknown): RecordCheck => {
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
