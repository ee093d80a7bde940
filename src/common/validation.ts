import { z } from 'zod';
import { ValidationError, type ErrorDetail } from './errors.js';
import { formatPath } from './format-path.js';

export function zodIssues(error: z.ZodError, prefix = ''): ErrorDetail[] {
  return error.issues.map((i) => {
    const path = formatPath([...(prefix ? [prefix] : []), ...i.path]);
    if (i.code === 'unrecognized_keys') {
      return { path, message: i.keys.map((k) => `unknown field '${k}'`).join(', ') };
    }
    return { path, message: i.message };
  });
}

/** Parses request input (body, query) or throws a 400 whose details name each bad field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, prefix = ''): z.infer<T> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) throw new ValidationError(zodIssues(parsed.error, prefix));
  return parsed.data;
}

/** An ISO 8601 date-time with offset, parsed into a Date: REST bodies and queries, and GraphQL DateTime arguments. */
export const isoDateTime = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time with offset' })
  .transform((s) => new Date(s));

export const paginationSchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

export type Page<T> = { items: T[]; totalEntries: number; limit: number; offset: number };
