import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { ApiKeysService } from '../../src/auth/api-keys.service.js';
import { Clock } from '../../src/common/clock.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-admin.js';
import { collect, wsClient } from '../support/ws.js';

/**
 * Two service instances on one database: subscriptions are served by B while A (and its workers) drive the runs, so
 * every event crosses replicas through PostgreSQL (outbox + NOTIFY), never through process memory.
 */
const ADMIN = 'weft_test_admin_key_subscriptions_0123456789';
let database: TestDatabase;
let a: TestApp;
let b: TestApp;
let baseB: string;
let db: pg.Client;
const keys: Record<string, string> = {};

beforeAll(async () => {
  database = await createTestDatabase();
  const env = { WEFT_AUTH: 'on', WEFT_ADMIN_API_KEY: ADMIN };
  a = await startTestApp(env, { databaseUrl: database.url });
  b = await startTestApp(env, { databaseUrl: database.url });
  await a.app.get(ApiKeysService).ensureAdminKey(ADMIN, '/tmp');
  await a.listen();
  baseB = await b.listen();
  for (const role of ['viewer', 'worker']) {
    const res = await a.app.inject({ method: 'POST', url: '/api/v1/apiKeys', headers: { authorization: `Bearer ${ADMIN}` }, payload: { name: `sub-${role}`, role } });
    expect(res.statusCode).toBe(201);
    keys[role] = res.json().key;
  }
  db = new pg.Client({ connectionString: database.url });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await b?.app.close();
  await a?.app.close();
  await database?.drop();
});

/** A, called with the admin key (auth is on). */
const asAdmin = () => new Api(a.app, { authorization: `Bearer ${ADMIN}` });

const TI = `subscription($d: ID!, $r: String!, $after: Int) {
  taskInstanceStateChanged(dagId: $d, runId: $r, afterSequence: $after) {
    sequence dagId runId taskId state previousState tryNumber at
  }
}`;
const RUNS = `subscription($d: ID!, $after: Int) { dagRunStateChanged(dagId: $d, afterSequence: $after) { sequence runId state previousState runType } }`;

describe('subscriptions across replicas', () => {
  it('streams every task transition of a run driven through instance A to a subscriber on instance B, in order, without gaps', async () => {
    const admin = asAdmin();
    await admin.registerDag(
      dag('sub_chain', [
        { taskId: 'extract' },
        { taskId: 'transform', dependsOn: ['extract'], retries: 1, retryDelaySec: 0 },
        { taskId: 'audit', dependsOn: ['extract'] },
        { taskId: 'load', dependsOn: ['transform', 'audit'] },
      ]),
    );
    const viewer = wsClient(baseB, keys.viewer);
    // From the stream's start (a new DAG's stream holds only this test's run), so no event can fall between the
    // subscription and the trigger, however long B takes to register it.
    const runs = collect(viewer, RUNS, { d: 'sub_chain', after: 0 });

    const run = await admin.trigger('sub_chain', { runId: 'r1' });
    const tasks = collect(viewer, TI, { d: 'sub_chain', r: run.runId, after: 0 });

    let failedOnce = false;
    for (let i = 0; i < 20; i++) {
      const done = await admin.drain('sub_chain', (l) => {
        if (l.taskId === 'transform' && !failedOnce) {
          failedOnce = true;
          return { status: 'failed', error: 'first try fails', retryable: true };
        }
        return { status: 'success' };
      });
      if ((await admin.run('sub_chain', run.runId)).state === 'success') break;
      if (done.length === 0) await admin.tick(new Date(Date.now() + 1000));
    }
    expect((await admin.run('sub_chain', run.runId)).state).toBe('success');

    const expected = (await db.query(`SELECT count(*)::int AS n FROM events WHERE stream = (SELECT 'ti:' || id FROM dag_runs WHERE dag_id = 'sub_chain' AND run_id = 'r1')`)).rows[0].n;
    const got = (await tasks.until((xs) => xs.length >= expected && xs.filter((x: any) => x.taskInstanceStateChanged.state === 'success').length === 4, 'all task events')).map(
      (x: any) => x.taskInstanceStateChanged,
    );
    expect(got.map((e) => e.sequence)).toEqual(got.map((_, i) => i + 1));
    // Every transition is there: per task, each event starts from the state the previous one ended in.
    const byTask = new Map<string, any[]>();
    for (const e of got) byTask.set(e.taskId, [...(byTask.get(e.taskId) ?? []), e]);
    expect([...byTask.keys()].sort()).toEqual(['audit', 'extract', 'load', 'transform']);
    for (const [taskId, events] of byTask) {
      expect(events[0].previousState ?? 'none').toBe('none');
      for (let i = 1; i < events.length; i++) expect([taskId, events[i].previousState]).toEqual([taskId, events[i - 1].state]);
      expect(events.at(-1).state).toBe('success');
    }
    const transform = byTask.get('transform')!.map((e) => `${e.state}@${e.tryNumber}`);
    expect(transform).toEqual(expect.arrayContaining(['running@1', 'up_for_retry@1', 'running@2', 'success@2']));
    // A's completion of `load` and B's event are the same commit: the event order is the commit order.
    expect(got.at(-1)).toMatchObject({ taskId: 'load', state: 'success' });

    const runEvents = (await runs.until((xs) => xs.some((x: any) => x.dagRunStateChanged.state === 'success'), 'run success')).map((x: any) => x.dagRunStateChanged);
    expect(runEvents.map((e) => [e.runId, e.previousState, e.state])).toEqual([
      ['r1', null, 'queued'],
      ['r1', 'queued', 'running'],
      ['r1', 'running', 'success'],
    ]);
    expect(runEvents.map((e) => e.sequence)).toEqual([1, 2, 3]);
    await tasks.stop();
    await runs.stop();
    await viewer.dispose();
  });

  it('resumes a stream after a sequence number, and reports backfill progress to the end', async () => {
    const admin = asAdmin();
    const viewer = wsClient(baseB, keys.viewer);
    const resumed = collect(viewer, TI, { d: 'sub_chain', r: 'r1', after: 5 });
    const first = await resumed.until((xs) => xs.length > 0 && xs.at(-1).taskInstanceStateChanged.taskId === 'load' && xs.at(-1).taskInstanceStateChanged.state === 'success', 'replay');
    expect(first[0].taskInstanceStateChanged.sequence).toBe(6);
    await resumed.stop();

    await admin.registerDag(dag('sub_bf', [{ taskId: 'only' }], { schedule: '@daily', startDate: '2024-01-01T00:00:00Z', catchup: false }));
    const bf = await admin.ok('POST', '/api/v1/backfills', { dagId: 'sub_bf', fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-03T00:00:00Z', maxActiveRuns: 2 });
    const progress = collect(viewer, `subscription($id: Int!) { backfillProgress(backfillId: $id, afterSequence: 0) { sequence total pending running success completedAt } }`, { id: bf.id });
    for (let i = 0; i < 10; i++) {
      await admin.drain('sub_bf');
      await admin.tick();
      if ((await admin.ok('GET', `/api/v1/backfills/${bf.id}`)).state === 'completed') break;
    }
    const events = (await progress.until((xs) => xs.some((x: any) => x.backfillProgress.completedAt), 'backfill completed')).map((x: any) => x.backfillProgress);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]).toMatchObject({ total: 3 });
    expect(events.at(-1)).toMatchObject({ total: 3, pending: 0, running: 0, success: 3 });
    await progress.stop();
    await viewer.dispose();
  });
});

describe('subscription authorisation', () => {
  it('closes a connection without a key, or with an unknown one, at connection_init (4403)', async () => {
    for (const key of [undefined, 'weft_not_a_key']) {
      const client = wsClient(baseB, key);
      const sub = collect(client, RUNS, { d: 'sub_chain' });
      await sub.done;
      expect((sub.failure as { code?: number })?.code).toBe(4403);
      await client.dispose();
    }
  });

  it('refuses a worker key, and a missing run, when subscribing', async () => {
    const worker = wsClient(baseB, keys.worker);
    const sub = collect(worker, RUNS, { d: 'sub_chain' });
    await sub.done;
    expect(JSON.stringify((sub.failure as any).errors)).toContain('FORBIDDEN');
    await worker.dispose();

    const viewer = wsClient(baseB, keys.viewer);
    const missing = collect(viewer, TI, { d: 'sub_chain', r: 'no_such_run' });
    await missing.done;
    expect(JSON.stringify((missing.failure as any).errors)).toContain('NOT_FOUND');
    await viewer.dispose();
  });

  it('ends a subscription whose key is revoked: the next event is an error, not data', async () => {
    const admin = asAdmin();
    await admin.registerDag(dag('sub_revoke', [{ taskId: 'a' }, { taskId: 'b', dependsOn: ['a'] }]));
    const created = await admin.ok('POST', '/api/v1/apiKeys', { name: 'soon-revoked', role: 'viewer' });
    const client = wsClient(baseB, created.key);
    const runs = collect(client, RUNS, { d: 'sub_revoke', after: 0 });
    await admin.trigger('sub_revoke');
    await runs.until((xs) => xs.length >= 1, 'an event before revocation');
    await admin.ok('DELETE', `/api/v1/apiKeys/${created.id}`);
    // The key is re-checked at most every 5 s (by the service's Clock, moved on here instead of waiting); the next
    // events after that are refused.
    const clock = jest.spyOn(b.app.get(Clock), 'now').mockImplementation(() => new Date(Date.now() + 5_200));
    try {
      const before = runs.items.length;
      await admin.drain('sub_revoke');
      await runs.done;
      expect(runs.items.length).toBe(before);
    } finally {
      clock.mockRestore();
    }
    expect(JSON.stringify((runs.failure as any).errors)).toContain('UNAUTHENTICATED');
    await client.dispose();
  });
});

describe('docs/examples/watch-run.mjs', () => {
  it('prints a run’s events as JSON lines and exits 0 when it finishes', async () => {
    const admin = asAdmin();
    await admin.registerDag(dag('sub_example', [{ taskId: 'one' }, { taskId: 'two', dependsOn: ['one'] }]));
    const run = await admin.trigger('sub_example', { runId: 'example' });
    const child = spawn(process.execPath, ['docs/examples/watch-run.mjs', 'sub_example', run.runId], {
      env: { ...process.env, WEFT_URL: baseB, WEFT_API_KEY: keys.viewer },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await admin.drain('sub_example');
    const code = await exited;
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    const taskStates = lines.filter((l) => l.taskInstanceStateChanged).map((l) => `${l.taskInstanceStateChanged.taskId}:${l.taskInstanceStateChanged.state}`);
    expect(taskStates).toEqual(expect.arrayContaining(['one:queued', 'one:running', 'one:success', 'two:success']));
    expect(lines.some((l) => l.dagRunStateChanged?.runId === 'example' && l.dagRunStateChanged.state === 'success')).toBe(true);
  });
});
