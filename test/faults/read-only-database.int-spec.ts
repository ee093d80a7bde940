import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { sample } from '../support/metrics.js';
import { adminUrl } from '../support/pg-urls.mjs';
import { waitFor } from '../support/wait.js';

/**
 * A failover in progress, emulated on this test's own database: it is set read-only and its sessions are ended, so
 * every session Weft opens meanwhile is read-only (what a demoted primary or a standby gives). Weft must treat that
 * as the database being unavailable, and come back by itself when the database is writable again (the read-only
 * sessions it still holds are its own to get rid of: the emulation does not end them the second time).
 */
let t: TestApp;
let api: Api;
let admin: pg.Client;

beforeAll(async () => {
  t = await startTestApp({ WEFT_SCHEDULER_TICK_MS: '200', DATABASE_CONNECT_TIMEOUT_SEC: '2' }, { runScheduler: true });
  api = new Api(t.app);
  admin = new pg.Client({ connectionString: adminUrl(process.env.WEFT_TEST_SERVER_URL!) });
  await admin.connect();
});

afterAll(async () => {
  await admin?.query(`ALTER DATABASE ${t.db.name} RESET default_transaction_read_only`).catch(() => undefined);
  await admin?.end();
  await t?.close();
});

const get = (url: string) => t.app.inject({ method: 'GET', url });
const post = (url: string, payload?: object) => t.app.inject({ method: 'POST', url, payload });
const metric = async (name: string) => sample((await get('/metrics')).body, name) ?? 0;

async function setReadOnly(on: boolean): Promise<void> {
  await admin.query(`ALTER DATABASE ${t.db.name} ${on ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only'}`);
  if (on) await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [t.db.name]);
}

describe('a read-only database (failover in progress)', () => {
  it('turns readiness red, answers writes 503 with Retry-After, pauses the scheduler, and recovers by itself', async () => {
    await api.registerDag(dag('ro', [{ taskId: 'first' }, { taskId: 'second', dependsOn: ['first'] }]));
    const { runId } = await api.trigger('ro');
    const [lease] = await api.lease('w', { queues: ['ro'] });
    expect(lease).toBeDefined();
    expect((await get('/health/ready')).statusCode).toBe(200);

    await setReadOnly(true);

    // (The sessions the emulation ended answer 'unreachable' once each, as they would in a real failover.)
    const ready = await waitFor(async () => {
      const r = await get('/health/ready');
      return r.statusCode === 503 && r.json().database === 'read_only' ? r : null;
    }, 'readiness to say read_only');
    expect(ready.json()).toMatchObject({ status: 'unavailable', database: 'read_only' });
    // Reads are served; every write answers 503 with Retry-After, never 500.
    expect((await get('/api/v1/dags')).statusCode).toBe(200);
    const writes = [
      await post('/api/v1/dags', dag('ro_new', [{ taskId: 'a' }])),
      await post('/api/v1/dags/ro/dagRuns', {}),
      await post('/api/v1/workers/w/lease', { queues: ['ro'], waitSeconds: 0 }),
      await post(`/api/v1/leases/${lease.leaseId}/heartbeat`),
      await post(`/api/v1/leases/${lease.leaseId}/logs`, { lines: ['hello'] }),
      await post(`/api/v1/leases/${lease.leaseId}/complete`, { status: 'success' }),
    ];
    for (const w of writes) {
      expect({ status: w.statusCode, retryAfter: w.headers['retry-after'], body: w.json() }).toEqual({
        status: 503,
        retryAfter: '5',
        body: { statusCode: 503, error: 'Service Unavailable', message: 'the database is unavailable; retry shortly' },
      });
    }
    const gql = await post('/graphql', { query: 'mutation { triggerDagRun(dagId: "ro") { created } }' });
    expect(gql.json().errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', statusCode: 503 });
    // The scheduler's ticks fail (and are counted) instead of writing.
    const failures = await metric('weft_scheduler_tick_failures_total');
    await waitFor(async () => (await metric('weft_scheduler_tick_failures_total')) > failures + 2, 'failed scheduler ticks');

    await setReadOnly(false);

    await waitFor(async () => (await get('/health/ready')).statusCode === 200, 'readiness to turn green again', 30_000, 100);
    // The worker's completion, retried as a client does on 503, goes through; the run goes on.
    await waitFor(async () => (await api.complete(lease.leaseId, { status: 'success' })).status === 200, 'the completion to be accepted', 30_000, 250);
    await api.drain('ro');
    expect((await api.run('ro', runId)).state).toBe('success');
    expect((await post('/api/v1/dags', dag('ro_new', [{ taskId: 'a' }]))).statusCode).toBe(201);
    // And the scheduler ticks again without failing.
    const failed = await metric('weft_scheduler_tick_failures_total');
    const ticks = await metric('weft_scheduler_tick_duration_seconds_count');
    await waitFor(async () => (await metric('weft_scheduler_tick_duration_seconds_count')) > ticks + 3, 'more scheduler ticks', 30_000);
    expect(await metric('weft_scheduler_tick_failures_total')).toBeLessThanOrEqual(failed + 1);
  });
});
