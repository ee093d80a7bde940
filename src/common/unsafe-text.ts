import { formatPath } from './format-path.js';

/**
 * Text the service refuses at its edge, wherever it comes from (path, query string, JSON body, GraphQL arguments and
 * variables): NUL characters, which PostgreSQL `text` and `jsonb` cannot hold, and lone UTF-16 surrogates
 * (`"\ud83d"` in JSON), which are not Unicode text and which PostgreSQL refuses as well. Refusing them here, in one
 * function every transport calls, keeps them from ever reaching a query (where they were 500s).
 */
export type UnsafeText = { path: string; message: string };

const NUL = 'contains a NUL character (\\u0000), which is not allowed';
const SURROGATE = 'contains a lone UTF-16 surrogate (e.g. \\ud83d without its pair), which is not valid Unicode text';

/** Why this string cannot be accepted, or undefined. */
export function unsafeTextProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return NUL;
  if (!s.isWellFormed()) return SURROGATE;
  return undefined;
}

/**
 * The first string (value or object key) in a parsed JSON value (or a query-string / params object) that
 * unsafeTextProblem refuses, with its path (`conf.region`, `tasks[2].command`); undefined when all are fine.
 * `prefix` names where the value came from (`query`, a parameter name).
 */
export function findUnsafeText(value: unknown, prefix: PropertyKey[] = []): UnsafeText | undefined {
  if (typeof value === 'string') {
    const message = unsafeTextProblem(value);
    return message ? { path: formatPath(prefix), message } : undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnsafeText(value[i], [...prefix, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const keyProblem = unsafeTextProblem(key);
      if (keyProblem) return { path: formatPath(prefix), message: `has a key that ${keyProblem}` };
      const found = findUnsafeText(item, [...prefix, key]);
      if (found) return found;
    }
  }
  return undefined;
}
