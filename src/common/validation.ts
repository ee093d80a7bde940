import { z } from 'zod';
import { ValidationError, type ErrorDetail } from './errors.js';
import { formatPath } from './format-path.js';
import { didYouMean } from './suggest.js';

/**
 * zod's issues as `{path, message}`. An unknown field is named at its own path, with the field it most likely meant
 * when `schema` (what was parsed) has one close to it: `unknown field 'dag_run_id' (did you mean 'runId'?)`.
 */
export function zodIssues(error: z.ZodError, prefix = '', schema?: z.ZodType): ErrorDetail[] {
  const base = prefix ? [prefix] : [];
  return error.issues.flatMap((i) => {
    if (i.code === 'unrecognized_keys') {
      const known = Object.keys(schema ? (objectShapeAt(schema, i.path) ?? {}) : {});
      return i.keys.map((k) => ({ path: formatPath([...base, ...i.path, k]), message: `unknown field '${k}'${didYouMean(k, known)}` }));
    }
    return [{ path: formatPath([...base, ...i.path]), message: i.message }];
  });
}

/** The fields of the object schema found at `path` inside `schema` (through optional, default, pipe and array). */
function objectShapeAt(schema: z.ZodType, path: readonly PropertyKey[]): Record<string, unknown> | undefined {
  let current: z.core.$ZodType | undefined = schema;
  for (let step = 0; current && step <= path.length; ) {
    const def = current._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType; element?: z.core.$ZodType; shape?: Record<string, z.core.$ZodType> };
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe') current = def.in;
    else if (step === path.length) return def.type === 'object' ? def.shape : undefined;
    else if (def.type === 'object' && typeof path[step] === 'string') current = def.shape?.[path[step++] as string];
    else if (def.type === 'array' && typeof path[step] === 'number') {
      current = def.element;
      step++;
    } else return undefined;
  }
  return undefined;
}

/**
 * Parses request input (body, query) or throws a 400 whose details name each bad field. No body at all reads as
 * `{}`; a JSON `null` body is refused like any other non-object.
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, prefix = ''): z.infer<T> {
  const parsed = schema.safeParse(input === undefined ? {} : input);
  if (!parsed.success) throw new ValidationError(zodIssues(parsed.error, prefix, schema));
  return parsed.data;
}

/** An ISO 8601 date-time with offset, parsed into a Date: REST bodies and queries, and GraphQL DateTime arguments. */
export const isoDateTime = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time with offset' })
  .transform((s) => new Date(s));

/** The largest PostgreSQL `integer`: ids, versions, try numbers and counts are stored in 32 bits. */
export const INT32_MAX = 2_147_483_647;

/**
 * A whole number from a query string or a path (or a number, from GraphQL), bounded at the edge so that it fits
 * the column it is compared with. Digits only: `1e3`, `0x10`, ` 12`, `12.0` and `` are refused, not coerced.
 * Documented as the integer it is, with its bounds (the pipe's input side is not a schema of its own).
 */
export function wholeNumber(min: number, max: number, defaultValue?: number) {
  const int = z.int({ error: (issue) => (issue.code === 'invalid_type' ? 'must be a whole number written in digits' : undefined) }).min(min).max(max);
  return z.preprocess(
    (v) => (typeof v === 'string' && /^-?[0-9]{1,20}$/.test(v) ? Number(v) : v),
    defaultValue === undefined ? int : int.default(defaultValue),
  );
}

export const paginationSchema = z.object({
  limit: wholeNumber(1, 1000, 100),
  offset: wholeNumber(0, INT32_MAX, 0),
});

export type Page<T> = { items: T[]; totalEntries: number; limit: number; offset: number };
