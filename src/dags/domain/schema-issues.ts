import { z } from 'zod';
import { ID_PATTERN } from '../../common/ids.js';
import { dagDocumentSchema, idSchema, taskSchemaForType } from './dag-document.schema.js';
import { formatIssuePath, type DagValidationIssue } from './dag-validation-issue.js';
import { didYouMean } from './suggest.js';

type Path = readonly PropertyKey[];

/** What a task is checked against when its `type` cannot pick a schema: just enough to say what is wrong. */
const taskHeaderSchema = z.looseObject({ taskId: idSchema, type: idSchema });

/**
 * Turns zod's issues for a DAG document into Weft's: one per problem, each with a JSON-ish path and a message that
 * says what to change. Task issues are recomputed against the schema the task's `type` selects, because a union
 * reports what every alternative disliked (or the wrong alternative's complaint), not what this task lacks.
 */
export function translateSchemaIssues(issues: readonly z.core.$ZodIssue[], input: unknown): DagValidationIssue[] {
  const out: DagValidationIssue[] = [];
  const failedTasks = new Set<number>();
  for (const issue of issues) {
    const [head, index] = issue.path;
    if (head === 'tasks' && typeof index === 'number') failedTasks.add(index);
    else out.push(...translate(issue, [], input));
  }
  const tasks = isRecord(input) && Array.isArray(input.tasks) ? input.tasks : [];
  for (const index of [...failedTasks].sort((a, b) => a - b)) {
    const task: unknown = tasks[index];
    const type = isRecord(task) ? task.type : undefined;
    const schema = typeof type === 'string' && ID_PATTERN.test(type) ? taskSchemaForType(type) : taskHeaderSchema;
    const result = schema.safeParse(task);
    const taskIssues = result.success
      ? issues.filter((i) => i.path[0] === 'tasks' && i.path[1] === index)
      : result.error.issues;
    const prefix = result.success ? [] : ['tasks', index];
    for (const issue of taskIssues) out.push(...translate(issue, prefix, input));
  }
  return out;
}

function translate(issue: z.core.$ZodIssue, prefix: Path, input: unknown): DagValidationIssue[] {
  const path = [...prefix, ...issue.path];
  const at = (message: string): DagValidationIssue[] => [{ path: formatIssuePath(path), message }];
  const value = valueAt(input, path);
  switch (issue.code) {
    case 'invalid_type': {
      if (value !== undefined) return at(`expected ${expectedKind(issue.expected)}, got ${describe(value)}`);
      const name = path[path.length - 1];
      return at(typeof name === 'string' ? `missing required field '${name}'` : 'missing value');
    }
    case 'unrecognized_keys': {
      const known = Object.keys(objectSchemaAt(path, input)?.shape ?? {});
      return issue.keys.map((key) => ({
        path: formatIssuePath([...path, key]),
        message: `unknown field '${key}'${didYouMean(key, known)}`,
      }));
    }
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v).replace(/^"(.*)"$/, "'$1'"));
      const got = ` got ${describe(value)}`;
      if (allowed.length === 1) return at(`must be ${allowed[0]},${got}`);
      const hint = typeof value === 'string' ? didYouMean(value, issue.values.map(String)) : '';
      return at(`must be one of ${allowed.join(', ')},${got}${hint}`);
    }
    case 'too_small':
      return at(sizeMessage('at least', 'more than', issue.origin, issue.minimum, issue.inclusive ?? true, value));
    case 'too_big':
      return at(sizeMessage('at most', 'less than', issue.origin, issue.maximum, issue.inclusive ?? true, value));
    case 'invalid_union':
      return translateUnion(issue, path, input, value);
    case 'invalid_format':
      return at(`${issue.message}, got ${describe(value)}`);
    case 'invalid_key':
      // A record key that its key schema refused: say why, not just "Invalid key in record".
      return at(issue.issues[0]?.message ?? issue.message);
    case 'not_multiple_of':
    case 'invalid_element':
    case 'custom':
      return at(issue.message);
  }
}

function translateUnion(
  issue: z.core.$ZodIssueInvalidUnion,
  path: Path,
  input: unknown,
  value: unknown,
): DagValidationIssue[] {
  const at = (message: string): DagValidationIssue[] => [{ path: formatIssuePath(path), message }];
  if (issue.discriminator !== undefined && 'options' in issue && issue.options) {
    const options = issue.options.map((o) => `'${String(o)}'`).join(', ');
    if (value === undefined) return at(`missing required field '${String(issue.discriminator)}'; one of ${options}`);
    return at(`must be one of ${options}, got ${describe(value)}`);
  }
  // Alternatives that failed only because the value has another JSON type say nothing useful; if exactly one
  // alternative accepted the type, its complaints are the real ones.
  // (An enum or literal, whose values are never objects, refusing an object or array is the same thing.)
  const structured = typeof value === 'object' && value !== null;
  const wrongKind = (list: readonly z.core.$ZodIssue[]) =>
    list.length === 1 && list[0].path.length === 0 && (list[0].code === 'invalid_type' || (structured && list[0].code === 'invalid_value'));
  const relevant = issue.errors.filter((list) => !wrongKind(list));
  if (relevant.length === 1) return relevant[0].flatMap((inner) => translate(inner, path, input));
  if (issue.message !== 'Invalid input') return at(issue.message);
  return at(`got ${describe(value)}, which matches none of the allowed forms`);
}

function sizeMessage(
  bound: string,
  strict: string,
  origin: string,
  limit: number | bigint | Date,
  inclusive: boolean,
  value: unknown,
): string {
  const n = String(limit);
  switch (origin) {
    case 'array':
    case 'set':
      return `must contain ${bound} ${n} item${n === '1' ? '' : 's'}, got ${Array.isArray(value) ? value.length : '?'}`;
    case 'string':
      if (n === '1' && bound === 'at least') return 'must not be empty';
      return `must be ${bound} ${n} character${n === '1' ? '' : 's'} long`;
    default:
      return `must be ${inclusive ? bound : strict} ${n}, got ${describe(value)}`;
  }
}

function expectedKind(expected: string): string {
  switch (expected) {
    case 'int':
      return 'an integer';
    case 'object':
    case 'record':
      return 'an object';
    case 'array':
    case 'string':
    case 'number':
    case 'boolean':
      return `${expected === 'array' ? 'an' : 'a'} ${expected}`;
    default:
      return expected;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value).replace(/^"(.*)"$/, "'$1'");
  }
  return String(value);
}

function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const key of path) {
    if (!isRecord(value) && !Array.isArray(value)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** The object schema that applies at `path` of this input, for suggesting field names. */
function objectSchemaAt(path: Path, input: unknown): z.ZodObject | undefined {
  let schema: z.ZodType | undefined = dagDocumentSchema;
  let value = input;
  for (const key of path) {
    const container = unwrap(schema, value);
    if (container instanceof z.ZodObject && typeof key === 'string') schema = container.shape[key] as z.ZodType;
    else if (container instanceof z.ZodArray && typeof key === 'number') schema = container.element as z.ZodType;
    else if (container instanceof z.ZodRecord) schema = container.valueType as z.ZodType;
    else return undefined;
    value = isRecord(value) || Array.isArray(value) ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  const found = unwrap(schema, value);
  return found instanceof z.ZodObject ? found : undefined;
}

/** Looks through optional/nullable/default wrappers, and picks a union's object alternative by the value's `type`. */
function unwrap(schema: z.ZodType | undefined, value: unknown): z.ZodType | undefined {
  let current = schema;
  while (current) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodNullable ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault
    ) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodUnion) {
      const objects = (current.options as z.ZodType[]).filter((o): o is z.ZodObject => o instanceof z.ZodObject);
      const type = isRecord(value) ? value.type : undefined;
      const literal = objects.find((o) => {
        const t = o.shape.type;
        return t instanceof z.ZodLiteral && t.values.has(type as z.core.util.Literal);
      });
      return literal ?? objects.find((o) => !(o.shape.type instanceof z.ZodLiteral)) ?? objects[0];
    } else {
      return current;
    }
  }
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
