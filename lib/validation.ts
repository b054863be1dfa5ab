import type { z } from 'zod';
import { InvalidInput } from './errors';

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
