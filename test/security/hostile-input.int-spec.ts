import { describe, expect, it } from '@jest/globals';
import { ApiKeysService } from '../../src/auth/api-keys.service.js';
import { useTestApp } from '../support/app.js';
import { changedTables, leaves, operations, resolve, sample, setAt, tableChecksums, type Leaf, type Operation, type Schema } from '../support/openapi-walk.js';

/**
 * Hostile input against every operation of the served OpenAPI document, over real HTTP on a real database: per
 * path parameter, query parameter and body field (required and optional), a NUL, a lone surrogate, over-range integers and a 250-character
 * id. Each must be answered with a documented 4xx in the error shape (never a 5xx), and a refused request must
 * leave every table as it was. The operations come from the document, so a new one is walked as soon as it exists.
 */
const ADMIN = 'fz-admin-key-0123456789abcdef';
const NUL = '\u0000';
const LONE = '\ud83d';
const LONG_ID = 'a'.repeat(250);
/** Path and query forms: %00, and a UTF-16 surrogate in UTF-8 form (not valid UTF-8). */
const URL_HOSTILE = ['%00', '%ED%A0%BD'];
const URL_INTEGERS = ['2147483648', '9007199254740993', '-2147483649', '1e3'];
const BODY_INTEGERS = [2147483648, 2 ** 53 + 2, -2147483649];
/** Columns that reads may touch (a key's last use). */
const IGNORED_COLUMNS = { api_keys: ['last_used_at'] };

type Sent = { label: string; status: number; body: any };

describe('hostile input on every REST operation', () => {
  const h = useTestApp({ WEFT_AUTH: 'on', WEFT_ADMIN_API_KEY: ADMIN, WEFT_RATE_LIMIT_PER_SEC: '0' });

  it('answers a documented 4xx and changes nothing, for every parameter and body field of every operation', async () => {
    await h.t.app.get(ApiKeysService).ensureAdminKey(ADMIN, '/tmp');
    const base = await h.t.listen();
    const http = async (method: string, url: string, body?: string, contentType = 'application/json'): Promise<{ status: number; body: any }> => {
      const res = await fetch(base + url, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': contentType }) }, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // kept as text: the shape check below reports it
      }
      return { status: res.status, body: parsed };
    };
    const ok = async (method: string, url: string, body?: unknown) => {
      const res = await http(method, url, body === undefined ? undefined : JSON.stringify(body));
      if (res.status >= 300) throw new Error(`${method} ${url} -> ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };

    // Fixtures: every kind of object a path can name exists, so the hostile value is the only thing wrong.
    await ok('POST', '/api/v1/dags', {
      dagId: 'fz_dag', schedule: '@daily', startDate: '2024-01-01T00:00:00Z', catchup: false, defaultArgs: { queue: 'fz_dag' },
      tasks: [{ taskId: 'extract', type: 'noop' }, { taskId: 'load', type: 'noop', dependsOn: ['extract'] }],
    });
    const webhook = await ok('POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/fz', eventKinds: ['dag_run_state'], dagIds: ['fz_dag'] });
    await ok('POST', '/api/v1/dags/fz_dag/dagRuns', { runId: 'fz_run', logicalDate: '2024-01-02T00:00:00Z' });
    await h.db.query('SELECT weft_events_number(5000)');
    const delivery = (await h.db.query('SELECT id::text FROM webhook_deliveries WHERE webhook_id = $1 LIMIT 1', [webhook.id])).rows[0];
    const { leases } = await ok('POST', '/api/v1/workers/fz_worker/lease', { queues: ['fz_dag'], capacity: 1 });
    await ok('PUT', '/api/v1/dags/fz_dag/dagRuns/fz_run/taskInstances/extract/xcomEntries/k1', { value: 1 });
    await ok('POST', '/api/v1/pools', { name: 'fz_pool', slots: 2 });
    const viewer = await ok('POST', '/api/v1/apiKeys', { name: 'fz viewer', role: 'viewer' });
    const backfill = await ok('POST', '/api/v1/backfills', { dagId: 'fz_dag', fromDate: '2024-02-01T00:00:00Z', toDate: '2024-02-02T00:00:00Z' });
    const valid: Record<string, string> = {
      dagId: 'fz_dag', runId: 'fz_run', taskId: 'extract', name: 'fz_pool', workerId: 'fz_worker', key: 'k1',
      leaseId: leases[0].leaseId, version: '1', tryNumber: '1', deliveryId: delivery.id,
    };

    const doc: Schema = (await http('GET', '/api/v1/openapi.json')).body;
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThanOrEqual(50);
    const paramValue = (op: Operation, name: string): string => {
      if (valid[name]) return valid[name]!;
      const schema = resolve(doc, op.op.parameters.find((p: Schema) => p.name === name)?.schema);
      if (name === 'id' && op.path.startsWith('/api/v1/webhooks/')) return String(webhook.id);
      if (name === 'id') return schema.format === 'uuid' ? viewer.id : String(backfill.id);
      return String(sample(doc, schema, name));
    };
    const urlOf = (op: Operation, override: Record<string, string> = {}, query = '') =>
      op.path.replace(/\{(\w+)\}/g, (_m, name: string) => override[name] ?? encodeURIComponent(paramValue(op, name))) + query;

    const failures: string[] = [];
    let requests = 0;
    const check = (op: Operation, sent: Sent, opts: { mayPass?: boolean } = {}) => {
      requests++;
      const where = `${op.method} ${op.path} (${op.operationId}) ${sent.label}`;
      if (sent.status >= 500) return failures.push(`${where}: ${sent.status} ${JSON.stringify(sent.body)}`);
      if (sent.status === 414) return failures.push(`${where}: 414 for an id of 250 characters`);
      if (sent.status < 400) {
        if (!opts.mayPass) failures.push(`${where}: accepted (${sent.status})`);
        return;
      }
      if (!op.op.responses[String(sent.status)]) failures.push(`${where}: ${sent.status} is not documented for this operation`);
      const b = sent.body;
      if (!(b && b.statusCode === sent.status && typeof b.error === 'string' && typeof b.message === 'string')) {
        failures.push(`${where}: not the error shape: ${JSON.stringify(b)}`);
      }
    };

    for (const op of ops) {
      const before = await tableChecksums(h.db, IGNORED_COLUMNS);
      const pathParams: string[] = (op.op.parameters ?? []).filter((p: Schema) => p.in === 'path').map((p: Schema) => p.name);
      const queryParams: Schema[] = (op.op.parameters ?? []).filter((p: Schema) => p.in === 'query');
      const bodySchema = op.op.requestBody?.content?.['application/json']?.schema;
      const baseBody = bodySchema ? JSON.stringify(sample(doc, bodySchema)) : undefined;
      const send = async (label: string, url: string, body = baseBody, contentType?: string) => {
        const res = await http(op.method, url, body, contentType);
        return { label, ...res };
      };

      for (const name of pathParams) {
        for (const v of [...URL_HOSTILE, ...URL_INTEGERS]) {
          // An over-range number is a valid string id: only number parameters must refuse it.
          const isNumber = ['integer', 'number'].includes(resolve(doc, op.op.parameters.find((p: Schema) => p.name === name).schema).type);
          if (URL_INTEGERS.includes(v) && !isNumber) continue;
          check(op, await send(`path ${name}=${v}`, urlOf(op, { [name]: v })));
        }
      }
      for (const q of queryParams) {
        const isInteger = resolve(doc, q.schema).type === 'integer';
        for (const v of [...URL_HOSTILE, ...(isInteger ? URL_INTEGERS : [])]) {
          check(op, await send(`query ${q.name}=${v}`, urlOf(op, {}, `?${q.name}=${v}`)));
        }
      }
      if (bodySchema) {
        for (const [carrier, leaf] of bodyLeaves(doc, bodySchema, JSON.parse(baseBody!))) {
          const at = leaf.path.join('.') || '(body)';
          const hostile =
            leaf.kind === 'integer' ? BODY_INTEGERS : leaf.kind === 'string' ? [NUL, LONE] : [{ fz: NUL }, { [LONE]: 1 }, { fz: [LONE] }];
          for (const v of hostile) {
            check(op, await send(`body ${at}=${JSON.stringify(v)}`, urlOf(op), JSON.stringify(setAt(carrier, leaf.path, v))));
          }
        }
        check(op, await send('body null', urlOf(op), 'null'));
        check(op, await send('duplicate keys', urlOf(op), baseBody!.startsWith('{"') ? `{"fz":1,"fz":2,${baseBody!.slice(1)}` : '{"a":1,"a":2}'));
        check(op, await send('text/plain body', urlOf(op), baseBody, 'text/plain'));
      }
      const changed = changedTables(before, await tableChecksums(h.db, IGNORED_COLUMNS));
      if (changed.length) failures.push(`${op.method} ${op.path} (${op.operationId}): refused requests changed ${changed.join(', ')}`);

      // A 250-character id is valid: any route must take it (no 414, no 5xx), though it usually names nothing.
      for (const name of pathParams) {
        const schema = resolve(doc, op.op.parameters.find((p: Schema) => p.name === name).schema);
        if (schema.type !== 'string' || schema.format) continue;
        check(op, await send(`path ${name}=<250 characters>`, urlOf(op, { [name]: LONG_ID })), { mayPass: true });
      }
      if (bodySchema) {
        for (const [carrier, leaf] of bodyLeaves(doc, bodySchema, JSON.parse(baseBody!)).filter(([, l]) => l.kind === 'string')) {
          check(op, await send(`body ${leaf.path.join('.')}=<250 characters>`, urlOf(op), JSON.stringify(setAt(carrier, leaf.path, LONG_ID))), { mayPass: true });
        }
      }
    }
    console.log(`hostile input: ${requests} requests over ${ops.length} operations, ${failures.length} failures`);
    expect(failures).toEqual([]);
  });
});

/**
 * Each place of a body once, with the body that carries it: the required fields in the smallest valid body, then the
 * optional ones in a body that has every field.
 */
function bodyLeaves(doc: Schema, schema: Schema, minimal: unknown): (readonly [unknown, Leaf])[] {
  const full = sample(doc, schema, '', true);
  const seen = new Set<string>();
  return [...leaves(doc, schema, minimal).map((l) => [minimal, l] as const), ...leaves(doc, schema, full).map((l) => [full, l] as const)].filter(([, l]) => {
    const key = l.path.join('.');
    return !seen.has(key) && Boolean(seen.add(key));
  });
}
