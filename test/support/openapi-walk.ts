import pg from 'pg';

/**
 * Walking the OpenAPI document: a valid instance of a request schema (for the fields not under test), the places
 * in it where a string or an integer sits, and a checksum of every table (to prove that a refused request changed
 * nothing). Used by the hostile-input and audit tests, so that an operation added later is walked without anyone
 * editing them.
 */
export type Schema = { [k: string]: any };
export type Operation = { method: string; path: string; operationId: string; op: Schema };

export function operations(doc: Schema): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries<Schema>(doc.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      if (item[method]) out.push({ method: method.toUpperCase(), path, operationId: item[method].operationId, op: item[method] });
    }
  }
  return out;
}

export function resolve(doc: Schema, s: Schema | undefined): Schema {
  let cur = s ?? {};
  while (cur.$ref) cur = doc.components.schemas[String(cur.$ref).split('/').pop()!];
  return cur;
}

/**
 * A value the schema accepts (required fields only, first branch of a union), built from the schema alone; with
 * `all`, optional fields too (the value may then break a rule across fields: it is a carrier for one hostile leaf).
 */
export function sample(doc: Schema, raw: Schema | undefined, name = '', all = false): unknown {
  const s = resolve(doc, raw);
  if (s.default !== undefined && s.default !== null) return s.default;
  if (s.example !== undefined) return s.example;
  if (s.enum) return s.enum.find((v: unknown) => v !== null);
  const branches = s.oneOf ?? s.anyOf;
  if (branches) return sample(doc, branches[0], name, all);
  if (s.allOf) return Object.assign({}, ...s.allOf.map((b: Schema) => sample(doc, b, name, all)));
  switch (s.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of all ? Object.keys(s.properties ?? {}) : (s.required ?? [])) out[key] = sample(doc, s.properties?.[key], key, all);
      return out;
    }
    case 'array':
      return Array.from({ length: Math.max(s.minItems ?? 0, all ? 1 : 0) }, () => sample(doc, s.items, name, all));
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return false;
    case 'string':
      if (s.format === 'date-time') return '2024-01-01T00:00:00Z';
      if (s.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
      return 'fz_value';
    default:
      return {};
  }
}

export type Leaf = { path: (string | number)[]; kind: 'string' | 'integer' | 'free' };

/** Where strings, integers and free-form JSON (conf, extra, params) sit in `value`, read through the schema. */
export function leaves(doc: Schema, raw: Schema | undefined, value: unknown, path: (string | number)[] = []): Leaf[] {
  const s = resolve(doc, raw);
  const branches = s.oneOf ?? s.anyOf;
  if (branches) return leaves(doc, branches[0], value, path);
  if (s.type === 'string' || (typeof value === 'string' && !s.type)) return [{ path, kind: 'string' }];
  if (s.type === 'integer') return [{ path, kind: 'integer' }];
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(doc, s.items, v, [...path, i]));
  if (value && typeof value === 'object') {
    const own = Object.entries(value).flatMap(([k, v]) => leaves(doc, s.properties?.[k] ?? s.additionalProperties, v, [...path, k]));
    // Objects that take any keys (conf, extra, a task's env): a hostile key or value inside them.
    const free = s.type !== 'object' || s.additionalProperties === undefined || s.additionalProperties === true || Object.keys(s.additionalProperties ?? {}).length === 0;
    return !s.properties && free ? [...own, { path, kind: 'free' }] : own;
  }
  if (!s.type && value === undefined) return [];
  return [];
}

export function setAt(value: unknown, path: (string | number)[], leaf: unknown): unknown {
  if (!path.length) return leaf;
  const copy: any = Array.isArray(value) ? [...value] : { ...(value as object) };
  copy[path[0]!] = setAt(copy[path[0]!], path.slice(1), leaf);
  return copy;
}

/** One digest per table of the public schema (row contents, order-independent); columns in `ignore` left out. */
export async function tableChecksums(db: pg.Client, ignore: Record<string, string[]> = {}): Promise<Record<string, string>> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const drop = (ignore[name] ?? []).map((c) => ` - '${c}'`).join('');
    const { rows } = await db.query<{ sum: string | null; n: number }>(
      `SELECT md5(coalesce(string_agg(r, '|' ORDER BY r), '')) AS sum, count(*)::int AS n FROM (SELECT (to_jsonb(t)${drop})::text AS r FROM "${name}" t) x`,
    );
    out[name] = `${rows[0]!.n}:${rows[0]!.sum}`;
  }
  return out;
}

export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys({ ...before, ...after }).filter((t) => before[t] !== after[t]);
}
