/**
 * Local validation of a DAG document against its JSON Schema (./generated/dag-schema.gen.ts, the schema the service
 * serves at /api/v1/schemas/dag.json). The schema is the service's structural half of validation: the rules that span
 * fields or tasks (cycles, unknown dependencies, cron and time zone syntax) are checked by the service itself, which
 * `validateDag` (POST /api/v1/dags/validate) answers without writing.
 */
import { Validator, type OutputUnit, type Schema } from '@cfworker/json-schema';
import { dagJsonSchema } from './generated/dag-schema.gen.js';

/** One problem, shaped like the service's validation details: a path such as `tasks[1].command` and a reason. */
export type DagIssue = { path: string; message: string };

type Validators = { document: Validator; taskByType: Map<string, Validator>; customTask: Validator };
let validators: Validators | undefined;

/**
 * Each task is checked against the schema of its own `type` (as the service does) rather than against the union of
 * every task schema, whose failure would report one complaint per task type. The task types are read from the
 * schema (each built-in task schema has a `const` type; the custom one has none), so a new type needs no code here.
 */
function build(): Validators {
  const schema = structuredClone(dagJsonSchema) as Schema & { $defs: Record<string, Schema>; properties: Record<string, Schema> };
  const refs = ((schema.properties.tasks!.items as Schema).anyOf ?? []).map((s) => s.$ref!);
  const forRef = (ref: string) => new Validator({ $defs: structuredClone(schema.$defs), $ref: ref }, '2020-12', false);
  const taskByType = new Map<string, Validator>();
  let customTask: Validator | undefined;
  for (const ref of refs) {
    const def = schema.$defs[ref.replace('#/$defs/', '')]!;
    const type = (def.properties?.type as Schema | undefined)?.const as string | undefined;
    if (type === undefined) customTask = forRef(ref);
    else taskByType.set(type, forRef(ref));
  }
  if (!customTask) throw new Error('the DAG JSON Schema has no custom task schema');
  // The document's own fields; its tasks only as an array of objects with a string type (each is checked above).
  schema.properties.tasks = { ...(schema.properties.tasks as Schema), items: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } } };
  return { document: new Validator(schema, '2020-12', false), taskByType, customTask };
}

/** Every problem the JSON Schema finds in `document` (empty: none). */
export function validateDagDocument(document: unknown): DagIssue[] {
  validators ??= build();
  const issues = leafIssues(validators.document.validate(document).errors, []);
  const tasks = (document as { tasks?: unknown } | null)?.tasks;
  if (Array.isArray(tasks)) {
    tasks.forEach((task: unknown, i) => {
      const type = (task as { type?: unknown } | null)?.type;
      if (typeof type !== 'string') return;
      const validator = validators!.taskByType.get(type) ?? validators!.customTask;
      issues.push(...leafIssues(validator.validate(task).errors, ['tasks', i]));
    });
  }
  return dedupe(issues);
}

/**
 * The validator reports each failing keyword and also every enclosing one ("properties", "items", "$ref"…); only
 * the innermost say what is wrong.
 */
function leafIssues(errors: OutputUnit[], prefix: (string | number)[]): DagIssue[] {
  const wrappers = new Set(['properties', 'items', 'prefixItems', '$ref', 'allOf', 'additionalProperties']);
  // A value that matches no branch of an anyOf is reported once, not once per branch.
  // A oneOf (such as a shell task's "command or argv") is reported once, naming the fields its branches require.
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const inside = (e: OutputUnit, u: OutputUnit) => u !== e && e.keywordLocation.startsWith(`${u.keywordLocation}/`);
  const inUnion = (e: OutputUnit) => unions.some((u) => inside(e, u));
  return errors
    .filter((e) => !wrappers.has(e.keyword) && !inUnion(e))
    .map((e) => ({
      path: formatPath([...prefix, ...pointer(e.instanceLocation)]),
      message: e.keyword === 'oneOf' ? oneOfMessage(e, errors.filter((x) => inside(x, e))) : message(e),
    }));
}

function oneOfMessage(e: OutputUnit, inner: OutputUnit[]): string {
  if (inner.length === 0) return 'matches more than one of the allowed forms: give only one';
  const required = inner.filter((x) => x.keyword === 'required').map((x) => /"([^"]+)"/.exec(x.error)?.[1]);
  if (required.length === inner.length && required.every(Boolean)) return `needs one of ${required.map((r) => `"${r}"`).join(' or ')}`;
  return 'matches none of the allowed forms';
}

function pointer(location: string): (string | number)[] {
  return location
    .replace(/^#\/?/, '')
    .split('/')
    .filter((p) => p !== '')
    .map((p) => decodeURIComponent(p).replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function message(e: OutputUnit): string {
  if (e.keyword === 'false') return 'unknown field';
  if (e.keyword === 'anyOf') return 'matches none of the allowed forms';
  // "Instance type \"number\" is invalid. Expected \"string\"." and the like: readable once the path is known.
  return e.error.replace(/^Instance /, 'value ').replace(/\.$/, '');
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The service's path notation: `tasks[2].dependsOn[0]`, `params["my key"]`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (IDENTIFIER.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

function dedupe(issues: DagIssue[]): DagIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}
