import { z } from 'zod';
import { InvalidInput } from './errors';

/**
 * Every id the API takes in a path (job ids, model names, versions, aliases) is short and plain:
 * UUIDs and the registry's names are at most 64 characters of letters, digits, `.`, `_` and `-`.
 * One rule for every route, ahead of any handler (functions/middleware.ts), so that no path
 * parameter reaches DynamoDB or S3 as an oversized key or with characters a key cannot hold, and
 * a route added later cannot forget it. The handlers' own schemas still decide what is a valid name.
 */
export const pathParameterSchema = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9._~-]+$/);

/** Parses `value` with `schema`, turning zod's issues into a 400 the caller can act on. */
export const parseOrThrow = <S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> => {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.join('.') || '(root)',
    message: issue.message,
  }));
  throw new InvalidInput(
    'INVALID_REQUEST',
    `The ${what} is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    { issues },
  );
};
