import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { Clock } from '../../src/common/clock.js';
import { dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';

const ADMIN = 'weft_test_admin_key_abcdefghijklmnop';
let t: TestApp;
let db: pg.Client;
const keys: Record<string, string> = {};

type Res = { status: number; body: any; headers: Record<string, unknown> };
async function call(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, key?: string, payload?: unknown, raw?: string): Promise<Res> {
  const res = await t.app.inject({
    method,
    url,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(raw !== undefined ? { 'content-type': 'application/json' } : {}) },
    payload: raw ?? (payload as object),
  });
  return { status: res.statusCode, body: res.body ? res.json() : undefined, headers: res.headers };
}

async function counts(): Promise<Record<string, number>> {
  const { rows } = await db.query(
    `SELECT (SELECT count(*) FROM dags)::int AS dags, (SELECT count(*) FROM dag_versions)::int AS versions, (SELECT count(*) FROM dag_runs)::int AS runs`,
  );
  return rows[0];
}

beforeAll(async () => {
  t = await startTestApp({ WEFT_AUTH: 'on', WEFT_ADMIN_API_KEY: ADMIN, WEFT_MAX_POLLS_PER_WORKER: '1' });
  db = new pg.Client({ connectionString: t.db.url });
  await db.connect();
  const { ApiKeysService } = await import('../../src/auth/api-keys.service.js');
  await t.app.get(ApiKeysService).ensureAdminKey(ADMIN, '/tmp');
  for (const [name, body] of Object.entries({
    viewer: { name: 'viewer', role: 'viewer' },
    operator: { name: 'operator', role: 'operator' },
    worker: { name: 'worker', role: 'worker', queues: ['sec'] },
    worker2: { name: 'worker2', role: 'worker' },
  })) {
    const res = await call('POST', '/api/v1/apiKeys', ADMIN, body);
    expect(res.status).toBe(201);
    expect(res.body.key).toMatch(/^weft_/);
    keys[name] = res.body.key;
  }
  expect((await call('POST', '/api/v1/dags', ADMIN, dag('sec', [{ taskId: 'a' }, { taskId: 'b', dependsOn: ['a'] }]))).status).toBe(201);
});
afterAll(async () => {
  await db.end();
  await t.close();
});

describe('authentication and roles', () => {
  it('refuses requests without a key, with a wrong key and with a revoked key', async () => {
    expect((await call('GET', '/api/v1/dags')).status).toBe(401);
    const wrong = await call('GET', '/api/v1/dags', 'weft_not_a_real_key');
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toMatch(/unknown or revoked/);
    const temp = await call('POST', '/api/v1/apiKeys', ADMIN, { name: 'temp', role: 'viewer' });
    expect((await call('GET', '/api/v1/dags', temp.body.key)).status).toBe(200);
    expect((await call('DELETE', `/api/v1/apiKeys/${temp.body.id}`, ADMIN)).status).toBe(200);
    expect((await call('GET', '/api/v1/dags', temp.body.key)).status).toBe(401);
  });

  it('ends a cached key on another replica as soon as it is revoked, and on a database revoke too', async () => {
    // A second replica on the same database: it caches the key on first use (WEFT_API_KEY_CACHE_SEC, 60 s) and must
    // still refuse it right after the first replica revokes it (the revocation NOTIFY), not a minute later.
    const CACHE_SEC = 60;
    const other = await startTestApp({ WEFT_AUTH: 'on', WEFT_ADMIN_API_KEY: ADMIN, WEFT_API_KEY_CACHE_SEC: String(CACHE_SEC) }, { databaseUrl: t.db.url });
    try {
      const onOther = async (key: string) => (await other.app.inject({ method: 'GET', url: '/api/v1/dags', headers: { authorization: `Bearer ${key}` } })).statusCode;
      // Until refused, or until just before the cache would have ended the key by itself (its lifetime counts from the
      // first lookup): the bound is the mechanism's own, not a guess at this machine's speed.
      const untilRefused = async (key: string, cachedAt: number) => {
        const revokedAt = Date.now();
        while (Date.now() < cachedAt + CACHE_SEC * 1000 - 1000 && (await onOther(key)) !== 401) await new Promise((r) => setTimeout(r, 10));
        console.log(`the other replica refused the revoked key ${Date.now() - revokedAt} ms after the revoke (cache ${CACHE_SEC} s)`);
        return onOther(key);
      };
      const temp = await call('POST', '/api/v1/apiKeys', ADMIN, { name: 'cached', role: 'viewer' });
      const cachedAt = Date.now();
      expect(await onOther(temp.body.key)).toBe(200);
      expect(await onOther(temp.body.key)).toBe(200); // now from the cache: no query
      expect((await call('DELETE', `/api/v1/apiKeys/${temp.body.id}`, ADMIN)).status).toBe(200);
      expect(await untilRefused(temp.body.key, cachedAt)).toBe(401);

      // Revoked by hand in the database (no NOTIFY): the cache still ends it, after its lifetime. Shown with a
      // short-lived cache on a third replica.
      const third = await startTestApp({ WEFT_AUTH: 'on', WEFT_ADMIN_API_KEY: ADMIN, WEFT_API_KEY_CACHE_SEC: '30' }, { databaseUrl: t.db.url });
      try {
        const k = await call('POST', '/api/v1/apiKeys', ADMIN, { name: 'manual', role: 'viewer' });
        const onThird = async () => (await third.app.inject({ method: 'GET', url: '/api/v1/dags', headers: { authorization: `Bearer ${k.body.key}` } })).statusCode;
        const revokedInDb = (on: boolean) => db.query(`UPDATE api_keys SET revoked_at = ${on ? 'now()' : 'NULL'} WHERE id = $1`, [k.body.id]);
        expect(await onThird()).toBe(200);
        // Lookups are cached once the replica's revocation LISTEN is on (the first lookup starts it): until a lookup
        // after a revoke behind the service's back still answers 200, give the cache another look.
        await waitFor(
          async () => {
            await revokedInDb(false);
            await onThird();
            await revokedInDb(true);
            return (await onThird()) === 200; // cached: the database was changed behind the service's back
          },
          'a lookup served from the cache',
          15_000,
          50,
        );
        // The cache's lifetime (30 s) passes on the replica's Clock, moved on instead of waited for.
        const clock = jest.spyOn(third.app.get(Clock), 'now').mockImplementation(() => new Date(Date.now() + 31_000));
        try {
          expect(await onThird()).toBe(401);
        } finally {
          clock.mockRestore();
        }
      } finally {
        await third.app.close();
      }
    } finally {
      await other.app.close();
    }
    // Room for the bound above (the cache's 60 s) to be reached, should the NOTIFY not end the key.
  }, 120_000);

  it('keeps health and the DAG schema public', async () => {
    expect((await call('GET', '/health')).status).toBe(200);
    expect((await call('GET', '/api/v1/schemas/dag.json')).status).toBe(200);
  });

  it('lets a viewer read but not change anything', async () => {
    expect((await call('GET', '/api/v1/dags/sec', keys.viewer)).status).toBe(200);
    const before = await counts();
    const res = await call('POST', '/api/v1/dags/sec/dagRuns', keys.viewer, {});
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/viewer key may not/);
    expect((await call('PATCH', '/api/v1/dags/sec', keys.viewer, { isPaused: true })).status).toBe(403);
    expect(await counts()).toEqual(before);
  });

  it('lets an operator run things but not register DAGs or manage keys', async () => {
    expect((await call('POST', '/api/v1/dags/sec/dagRuns', keys.operator, { runId: 'op-run' })).status).toBe(201);
    expect((await call('POST', '/api/v1/dags', keys.operator, dag('nope', [{ taskId: 'a' }]))).status).toBe(403);
    expect((await call('GET', '/api/v1/apiKeys', keys.operator)).status).toBe(403);
    expect((await call('GET', '/api/v1/auditLog', keys.operator)).status).toBe(403);
  });

  it('keeps worker keys to the lease API, their queues and their own leases', async () => {
    expect((await call('GET', '/api/v1/dags', keys.worker)).status).toBe(403);
    expect((await call('POST', '/api/v1/apiKeys', keys.worker, { name: 'x', role: 'admin' })).status).toBe(403);
    const outside = await call('POST', '/api/v1/workers/w1/lease', keys.worker, { queues: ['other'] });
    expect(outside.status).toBe(403);
    expect(outside.body.message).toMatch(/queue\(s\) other/);

    const leased = await call('POST', '/api/v1/workers/w1/lease', keys.worker, { queues: ['sec'] });
    expect(leased.status).toBe(200);
    const lease = leased.body.leases[0];
    expect(lease.taskId).toBe('a');
    const stolen = await call('POST', `/api/v1/leases/${lease.leaseId}/complete`, keys.worker2, { status: 'success' });
    expect(stolen.status).toBe(403);
    expect(stolen.body.details).toEqual({ reason: 'not_lease_owner' });
    expect((await call('POST', `/api/v1/leases/${lease.leaseId}/heartbeat`, keys.worker2)).status).toBe(403);
    expect((await call('POST', `/api/v1/leases/${lease.leaseId}/complete`, keys.worker, { status: 'success' })).status).toBe(200);
  });

  it('limits open long polls per worker id', async () => {
    const first = call('POST', '/api/v1/workers/busy/lease', keys.worker2, { queues: ['empty'], waitSeconds: 2 });
    await new Promise((r) => setTimeout(r, 100));
    const second = await call('POST', '/api/v1/workers/busy/lease', keys.worker2, { queues: ['empty'], waitSeconds: 2 });
    expect(second.status).toBe(429);
    expect((await first).status).toBe(200);
  });

  it('records who did what in the audit log, and never returns webhook secrets', async () => {
    await call('POST', '/api/v1/dags', ADMIN, dag('secretive', [{ taskId: 'a' }], { slaCallbacks: [{ type: 'webhook', url: 'http://127.0.0.1:9/x', secret: 'hunter2' }] }));
    const got = await call('GET', '/api/v1/dags/secretive', keys.viewer);
    expect(JSON.stringify(got.body)).not.toContain('hunter2');
    expect(got.body.document.slaCallbacks[0].secret).toBe('***');
    expect(JSON.stringify((await call('GET', '/api/v1/dags/secretive/versions', keys.viewer)).body)).not.toContain('hunter2');
    const audit = await call('GET', '/api/v1/auditLog?action=register_dag', ADMIN);
    expect(audit.body.items[0]).toMatchObject({ target: 'secretive', actor: expect.stringContaining('admin') });
    expect(audit.body.items[0].details.requestId).toBeDefined();
  });

  it('sends security headers', async () => {
    const res = await call('GET', '/api/v1/dags', ADMIN);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('bad input: a 4xx naming the problem, nothing written', () => {
  const cases: [string, () => Promise<Res>, number, RegExp][] = [
    ['a self-looping DAG', () => call('POST', '/api/v1/dags', ADMIN, dag('bad1', [{ taskId: 'a', dependsOn: ['a'] }])), 400, /a.*itself|itself/],
    ['cron with 61 minutes', () => call('POST', '/api/v1/dags', ADMIN, dag('bad2', [{ taskId: 'a' }], { schedule: '61 * * * *', startDate: '2024-01-01T00:00:00Z' })), 400, /schedule/],
    ['cron with 3 fields', () => call('POST', '/api/v1/dags', ADMIN, dag('bad3', [{ taskId: 'a' }], { schedule: '* * *', startDate: '2024-01-01T00:00:00Z' })), 400, /schedule/],
    ['an empty cron', () => call('POST', '/api/v1/dags', ADMIN, dag('bad4', [{ taskId: 'a' }], { schedule: '', startDate: '2024-01-01T00:00:00Z' })), 400, /schedule/],
    ['a 10 MB body', () => call('POST', '/api/v1/dags', ADMIN, undefined, JSON.stringify({ dagId: 'big', description: 'x'.repeat(10 * 1024 * 1024) })), 413, /large|limit/i],
    ['10,000-deep JSON', () => call('POST', '/api/v1/dags', ADMIN, undefined, '['.repeat(10_000) + ']'.repeat(10_000)), 400, /deeper than 64/],
    ['an id of 200 characters with quotes and SQL', () => call('POST', '/api/v1/dags', ADMIN, dag(`x'; DROP TABLE dags; --${'"'.repeat(170)}`, [{ taskId: 'a' }])), 400, /dagId/],
    ['a NUL byte', () => call('POST', '/api/v1/dags', ADMIN, undefined, '{"dagId": "nul\\u0000", "tasks": [{"taskId": "a", "type": "noop"}]}'), 400, /NUL/],
    ['right-to-left characters in an id', () => call('POST', '/api/v1/dags', ADMIN, dag('evil\u202Egnp.exe', [{ taskId: 'a' }])), 400, /dagId/],
    ['a task id with SQL', () => call('POST', '/api/v1/dags', ADMIN, dag('bad5', [{ taskId: "a' OR '1'='1" }])), 400, /taskId/],
    ['a cycle of two tasks', () => call('POST', '/api/v1/dags', ADMIN, dag('bad6', [{ taskId: 'a', dependsOn: ['b'] }, { taskId: 'b', dependsOn: ['a'] }])), 400, /cycle/],
    ['duplicate task ids', () => call('POST', '/api/v1/dags', ADMIN, dag('bad7', [{ taskId: 'a' }, { taskId: 'a' }])), 400, /duplicate/i],
    ['an unknown dependency', () => call('POST', '/api/v1/dags', ADMIN, dag('bad8', [{ taskId: 'a', dependsOn: ['zz'] }])), 400, /zz/],
    ['an unknown timezone', () => call('POST', '/api/v1/dags', ADMIN, dag('bad9', [{ taskId: 'a' }], { schedule: '@daily', startDate: '2024-01-01T00:00:00Z', timezone: 'Mars/Olympus_Mons' })), 400, /timezone/],
  ];

  it.each(cases)('rejects %s', async (_name, send, status, message) => {
    const before = await counts();
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.message).toMatch(message);
    expect(await counts()).toEqual(before);
  });

  it('refuses an oversize XCom in a completion with 413, and keeps the attempt running', async () => {
    await call('POST', '/api/v1/dags', ADMIN, dag('sec_xcom', [{ taskId: 'a' }]));
    await call('POST', '/api/v1/dags/sec_xcom/dagRuns', ADMIN, {});
    const [lease] = (await call('POST', '/api/v1/workers/wx/lease', ADMIN, { queues: ['sec_xcom'] })).body.leases;
    const res = await call('POST', `/api/v1/leases/${lease.leaseId}/complete`, ADMIN, { status: 'success', xcom: { big: 'x'.repeat(70 * 1024) } });
    expect(res.status).toBe(413);
    expect(res.body.message).toMatch(/xcom|XCom/);
    const { rows } = await db.query(`SELECT state FROM task_instances WHERE dag_id = 'sec_xcom'`);
    expect(rows).toEqual([{ state: 'running' }]);
    expect((await db.query(`SELECT count(*)::int AS n FROM xcom WHERE dag_id = 'sec_xcom'`)).rows[0].n).toBe(0);
  });

  it('answers SQL in a path with 400 naming the parameter, never 500', async () => {
    const res = await call('GET', `/api/v1/dags/${encodeURIComponent("x' OR 1=1 --")}`, ADMIN);
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ path: 'dagId', message: expect.stringContaining('1-250 characters') }]);
  });

  it('refuses a template-injection attempt that does not parse at registration, writing nothing', async () => {
    const res = await call('POST', '/api/v1/dags', ADMIN, dag('inject_call', [{ taskId: 't', type: 'shell', command: "echo {{ constructor.constructor('return process')().env }}" }]));
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ path: 'tasks[0].command', message: expect.stringMatching(/^syntax error: /) }]);
    expect((await call('GET', '/api/v1/dags/inject_call', ADMIN)).status).toBe(404);
  });

  it('renders template-injection attempts as a failed attempt, leaking nothing', async () => {
    await call('POST', '/api/v1/dags', ADMIN, dag('inject', [{ taskId: 't', type: 'shell', command: 'echo {{ constructor.constructor }}' }]));
    const run = await call('POST', '/api/v1/dags/inject/dagRuns', ADMIN, {});
    const leased = await call('POST', '/api/v1/workers/wi/lease', ADMIN, { queues: ['inject'] });
    expect(leased.body.leases).toEqual([]);
    const ti = await call('GET', `/api/v1/dags/inject/dagRuns/${encodeURIComponent(run.body.runId)}/taskInstances/t`, ADMIN);
    expect(ti.body.state).toBe('failed');
    expect(ti.body.lastError).toMatch(/rendering the task failed/);
    expect(ti.body.lastError).not.toMatch(/DATABASE_URL|PATH=/);
  });
});

describe('rate limits', () => {
  it('answer 429 with Retry-After once a key exceeds its rate', async () => {
    const limited = await startTestApp({ WEFT_AUTH: 'on', WEFT_ADMIN_API_KEY: ADMIN, WEFT_RATE_LIMIT_PER_SEC: '1', WEFT_RATE_LIMIT_BURST: '3' }, { databaseUrl: t.db.url });
    try {
      const statuses: number[] = [];
      let retryAfter: unknown;
      for (let i = 0; i < 5; i++) {
        const res = await limited.app.inject({ method: 'GET', url: '/api/v1/pools', headers: { authorization: `Bearer ${ADMIN}` } });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) retryAfter = res.headers['retry-after'];
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses[4]).toBe(429);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.app.close();
    }
  });
});
