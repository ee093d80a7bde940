import type { z } from 'zod';

/**
 * What an id may be: the one definition, used by the DAG document's schema (dagId, taskId, group ids, pools, queues,
 * task types), the API's inputs and path parameters (openapi/path-params.ts) and configuration (worker id, queues);
 * the published JSON Schema, the OpenAPI document and the generated clients derive from these patterns.
 *
 * An id is never made only of dots ('.', '..', '...'). '.' and '..' are dot-segments: browsers, fetch and the
 * generated clients remove them from a URL path before sending it (RFC 3986 §5.2.4), so a request for
 * /api/v1/dags/x/dagRuns/r/taskInstances/.. would reach /api/v1/dags/x/dagRuns/r, and a DAG named '..' could never
 * be addressed. '...' is an ordinary segment, but "not only dots" is one rule, simpler to state than two exceptions.
 *
 * The rule is a lookahead, `(?!\.+$)`, which every consumer of the patterns takes: JavaScript (the service, the
 * TypeScript client's JSON Schema validator) and Python's `re` (the Python client checks parameters with it); the
 * Go client checks no patterns. Lookaheads were already in the schema (built-in type names, ISO durations).
 */

/** DAG, task, group, pool, queue, worker and task-type ids. */
export const ID_PATTERN = /^(?!\.+$)[A-Za-z0-9_.-]{1,250}$/;
export const ID_MESSAGE = 'must be 1-250 characters of letters, digits, "_", "." or "-"';

/** Run ids may carry an ISO timestamp (`manual__2024-01-15T06:00:00+00:00`), so ':' and '+' are allowed too. */
export const RUN_ID_PATTERN = /^(?!\.+$)[A-Za-z0-9_.:+-]{1,250}$/;
export const RUN_ID_MESSAGE = 'must be 1-250 characters of letters, digits, "_", ".", ":", "+" or "-"';

/** Only the dot rule, for names that are otherwise free text but appear in URL paths (XCom keys). */
export const NOT_ONLY_DOTS_PATTERN = /^(?!\.+$)/;

/** The answer to an id made only of dots: says why, since each dot is otherwise an allowed character. */
export const ONLY_DOTS_MESSAGE =
  'must not be made only of dots: "." and ".." are removed from URL paths by browsers and HTTP clients (RFC 3986 dot-segments), so it could not be addressed';

export function isOnlyDots(value: unknown): boolean {
  return typeof value === 'string' && /^\.+$/.test(value);
}

/** A zod error for a pattern check: the dot rule's reason for an id of dots, `message` otherwise. */
export function idError(message: string): (issue: z.core.$ZodRawIssue) => string {
  return (issue) => (isOnlyDots(issue.input) ? ONLY_DOTS_MESSAGE : message);
}
