import { describe, expect, it } from '@jest/globals';
import { Api, dag } from '../support/api.js';
import { useTestApp } from '../support/app.js';
import { graphql } from '../support/graphql.js';
import { changedTables, tableChecksums } from '../support/openapi-walk.js';

/**
 * The GraphQL counterpart of hostile-input.int-spec.ts: every argument of every query and mutation, and every field
 * of their input objects, read from the schema by introspection, is sent (as a variable) a NUL, a lone surrogate,
 * over-range integers and a 250-character id, with valid values everywhere else. Never a 5xx or an
 * INTERNAL_SERVER_ERROR; hostile text and numbers are refused; and no table changes. A new query, mutation or
 * argument is walked without editing this file.
 */
const NUL = 'fz\u0000';
const LONE = 'fz\ud83d';
const LONG_ID = 'a'.repeat(250);
const INTEGERS = [2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2];
const IGNORED_COLUMNS = { api_keys: ['last_used_at'] };

type TypeRef = { kind: string; name: string | null; ofType: TypeRef | null };
type InputValue = { name: string; type: TypeRef; defaultValue: string | null };
type FullType = { kind: string; name: string; fields: { name: string; args: InputValue[]; type: TypeRef }[] | null; inputFields: InputValue[] | null; enumValues: { name: string }[] | null };

const TYPE_REF = `kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`;
const INTROSPECTION = `{ __schema { queryType { name } mutationType { name } types { kind name
  fields { name args { name defaultValue type { ${TYPE_REF} } } type { ${TYPE_REF} } }
  inputFields { name defaultValue type { ${TYPE_REF} } } enumValues { name } } } }`;

function named(t: TypeRef): TypeRef {
  return t.ofType ? named(t.ofType) : t;
}

/** The type as GraphQL writes it (`[String!]!`), for variable declarations. */
function typeName(t: TypeRef): string {
  if (t.kind === 'NON_NULL') return `${typeName(t.ofType!)}!`;
  if (t.kind === 'LIST') return `[${typeName(t.ofType!)}]`;
  return t.name!;
}

type Leaf = { path: (string | number)[]; scalar: string };

describe('hostile input on every GraphQL argument', () => {
  const h = useTestApp({ WEFT_RATE_LIMIT_PER_SEC: '0' });

  it('never answers an internal error, refuses hostile text and numbers, and changes nothing', async () => {
    const api = new Api(h.t.app);
    await api.registerDag(
      dag('fz_dag', [{ taskId: 'extract' }, { taskId: 'load', dependsOn: ['extract'] }], { schedule: '@daily', startDate: '2024-01-01T00:00:00Z', catchup: false }),
    );
    await api.trigger('fz_dag', { runId: 'fz_run', logicalDate: '2024-01-02T00:00:00Z' });
    await api.ok('PUT', '/api/v1/dags/fz_dag/dagRuns/fz_run/taskInstances/extract/xcomEntries/k1', { value: 1 });
    await api.ok('POST', '/api/v1/pools', { name: 'fz_pool', slots: 2 });
    const key = await api.ok('POST', '/api/v1/apiKeys', { name: 'fz viewer', role: 'viewer' });
    const backfill = await api.ok('POST', '/api/v1/backfills', { dagId: 'fz_dag', fromDate: '2024-02-01T00:00:00Z', toDate: '2024-02-02T00:00:00Z' });
    const known: Record<string, unknown> = { dagId: 'fz_dag', runId: 'fz_run', taskId: 'extract', name: 'fz_pool', key: 'k1', version: 1 };

    const { data } = await graphql(h.t.app, INTROSPECTION);
    const types = new Map<string, FullType>(data.__schema.types.map((t: FullType) => [t.name, t]));

    /** A valid value of `t` for an argument or field called `name` (fixtures for ids). */
    const sample = (t: TypeRef, name: string, idOwner = ''): unknown => {
      if (t.kind === 'NON_NULL') return sample(t.ofType!, name, idOwner);
      if (t.kind === 'LIST') return [sample(t.ofType!, name, idOwner)];
      const type = types.get(t.name!)!;
      if (type.kind === 'ENUM') return type.enumValues![0]!.name;
      if (type.kind === 'INPUT_OBJECT') {
        // Every field, optional ones too, so that each is walked.
        return Object.fromEntries(type.inputFields!.map((f) => [f.name, sample(f.type, f.name)]));
      }
      if (name in known) return known[name];
      if (name === 'id') return t.name === 'Int' ? backfill.id : key.id;
      switch (t.name ?? '') {
        case 'Int':
          return name === 'limit' ? 10 : name === 'offset' ? 0 : 1;
        case 'Float':
          return 1.5;
        case 'Boolean':
          return name === 'dryRun';
        case 'DateTime':
          return '2024-01-01T00:00:00Z';
        case 'JSON':
          return { fz: 1 };
        default:
          return 'fz_value';
      }
    };

    /** Where strings, numbers and JSON sit in a sampled argument, read through its type. */
    const leaves = (t: TypeRef, value: unknown, path: (string | number)[]): Leaf[] => {
      if (t.kind === 'NON_NULL') return leaves(t.ofType!, value, path);
      if (t.kind === 'LIST') return (value as unknown[]).flatMap((v, i) => leaves(t.ofType!, v, [...path, i]));
      const type = types.get(t.name!)!;
      if (type.kind === 'INPUT_OBJECT') return type.inputFields!.flatMap((f) => leaves(f.type, (value as Record<string, unknown>)[f.name], [...path, f.name]));
      if (type.kind === 'ENUM' || t.name === 'Boolean') return [{ path, scalar: 'ENUM' }];
      return [{ path, scalar: t.name! }];
    };

    const setAt = (value: unknown, path: (string | number)[], leaf: unknown): unknown => {
      if (!path.length) return leaf;
      const copy: any = Array.isArray(value) ? [...value] : { ...(value as object) };
      copy[path[0]!] = setAt(copy[path[0]!], path.slice(1), leaf);
      return copy;
    };

    const failures: string[] = [];
    let requests = 0;
    let fieldsWalked = 0;
    for (const [operation, rootName] of [['query', data.__schema.queryType.name], ['mutation', data.__schema.mutationType.name]] as const) {
      for (const field of types.get(rootName)!.fields!) {
        if (!field.args.length) continue;
        fieldsWalked++;
        const returnType = types.get(named(field.type).name!)!;
        const selection = returnType.kind === 'OBJECT' || returnType.kind === 'INTERFACE' || returnType.kind === 'UNION' ? ' { __typename }' : '';
        const declarations = field.args.map((a) => `$${a.name}: ${typeName(a.type)}`).join(', ');
        const query = `${operation} Fz(${declarations}) { ${field.name}(${field.args.map((a) => `${a.name}: $${a.name}`).join(', ')})${selection} }`;
        const base = Object.fromEntries(field.args.map((a) => [a.name, sample(a.type, a.name)]));

        const before = await tableChecksums(h.db, IGNORED_COLUMNS);
        const send = async (label: string, variables: Record<string, unknown>, mustRefuse: boolean) => {
          requests++;
          const res = await graphql(h.t.app, query, variables);
          const where = `${operation} ${field.name} ${label}`;
          const internal = (res.errors ?? []).filter((e: any) => e.extensions?.code === 'INTERNAL_SERVER_ERROR' || Number(e.extensions?.statusCode) >= 500);
          if (res.status >= 500 || internal.length) failures.push(`${where}: ${res.status} ${JSON.stringify(res.errors)}`);
          else if (mustRefuse && !res.errors?.length) failures.push(`${where}: accepted`);
        };
        for (const arg of field.args) {
          for (const leaf of leaves(arg.type, base[arg.name], [])) {
            const at = [arg.name, ...leaf.path].join('.');
            const put = (v: unknown) => ({ ...base, [arg.name]: setAt(base[arg.name], leaf.path, v) });
            if (leaf.scalar === 'Int' || leaf.scalar === 'Float') {
              for (const v of INTEGERS) await send(`${at}=${v}`, put(v), leaf.scalar === 'Int');
            } else if (leaf.scalar === 'JSON') {
              for (const v of [{ fz: NUL }, { [LONE]: 1 }, [LONE]]) await send(`${at}=${JSON.stringify(v)}`, put(v), true);
            } else if (leaf.scalar !== 'ENUM' && leaf.scalar !== 'Boolean') {
              for (const v of [NUL, LONE]) await send(`${at}=${JSON.stringify(v)}`, put(v), true);
            }
          }
        }
        const changed = changedTables(before, await tableChecksums(h.db, IGNORED_COLUMNS));
        if (changed.length) failures.push(`${operation} ${field.name}: refused requests changed ${changed.join(', ')}`);

        // A 250-character id is valid input: answered (found or not), never an internal error. Writes allowed here.
        for (const arg of field.args) {
          for (const leaf of leaves(arg.type, base[arg.name], []).filter((l) => l.scalar === 'ID' || l.scalar === 'String')) {
            await send(`${[arg.name, ...leaf.path].join('.')}=<250 characters>`, { ...base, [arg.name]: setAt(base[arg.name], leaf.path, LONG_ID) }, false);
          }
        }
      }
    }
    console.log(`GraphQL hostile input: ${requests} requests over ${fieldsWalked} queries and mutations with arguments, ${failures.length} failures`);
    expect(fieldsWalked).toBeGreaterThanOrEqual(30);
    expect(failures).toEqual([]);
  });
  it('answers every subscription sent over HTTP with a 400 that points to WebSocket, not an internal error', async () => {
    const { data } = await graphql(h.t.app, `{ __schema { subscriptionType { fields { name args { name type { ${TYPE_REF} } } type { ${TYPE_REF} } } } } }`);
    const fields: { name: string; args: InputValue[]; type: TypeRef }[] = data.__schema.subscriptionType.fields;
    expect(fields.length).toBeGreaterThanOrEqual(3);
    const answers = [];
    for (const f of fields) {
      // Required arguments get a variable each (any value: the operation is refused before it would run).
      const required = f.args.filter((a) => a.type.kind === 'NON_NULL');
      const decl = required.length ? `(${required.map((a) => `$${a.name}: ${typeName(a.type)}`).join(', ')})` : '';
      const call = required.length ? `(${required.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
      const leaf = named(f.type);
      const selection = leaf.kind === 'OBJECT' ? ' { __typename }' : '';
      const res = await graphql(h.t.app, `subscription${decl} { ${f.name}${call}${selection} }`);
      answers.push({ field: f.name, status: res.status, code: res.errors?.[0]?.extensions?.code, websocket: /WebSocket/.test(res.errors?.[0]?.message ?? '') });
    }
    expect(answers).toEqual(fields.map((f) => ({ field: f.name, status: 400, code: 'BAD_REQUEST', websocket: true })));
  });
});
