import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { RunsRepository } from '../../src/engine/runs/runs.repository.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * Group commit (docs/performance.md): completions, and claims of one queue set, that arrive while one of theirs is
 * in flight are served together by one statement. These tests race batches against each other, within one
 * process and across two API replicas on one database, and check the guarantees that batching must keep: one
 * accepted completion per attempt (the other gets 409), each item of a batch answered on its own, pool and
 * maxActiveTasks limits never exceeded, and tasks handed out in claim order. They also check that batches of more
 * than one item really formed, so that they cannot pass with the batching switched off.
 */
// Group commit is on by default (docs/performance.md); these tests set it explicitly, so they keep testing it whatever the default.
const ENV = { WEFT_QUEUED_TIMEOUT_SEC: '0', WEFT_GROUP_COMMIT_MAX_ITEMS: '64' };
let a: TestApp;
let b: TestApp;
let apiA: Api;
let apiB: Api;
let db: pg.Client;

beforeAll(async () => {
  a = await startTestApp(ENV);
  // A second API replica on the same database.
  b = await startTestApp(ENV, { databaseUrl: a.db.url });
  apiA = new Api(a.app);
  apiB = new Api(b.app);
  db = new pg.Client({ connectionString: a.db.url });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await b?.app.close();
  await a?.close();
});

/** Items served and batches formed so far by one app's group commit of `kind` (from its metrics). */
async function batching(app: TestApp, kind: 'complete' | 'claim'): Promise<{ batches: number; items: number }> {
  const { values } = await app.app.get(MetricsService).groupCommitItems.get();
  const of = (suffix: string) => values.find((v) => v.metricName === `weft_group_commit_items${suffix}` && v.labels.kind === kind)?.value ?? 0;
  return { batches: of('_count'), items: of('_sum') };
}

async function connect(n: number): Promise<pg.Client[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const c = new pg.Client({ connectionString: a.db.url });
      await c.connect();
      return c;
    }),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('group commit of completions', () => {
  it('completing every lease twice at once, through both replicas: exactly one accepted per attempt, the other 409', async () => {
    const tasks = Array.from({ length: 40 }, (_, i) => ({ taskId: `t${i}` }));
    await apiA.registerDag(dag('gc_race', tasks, { maxActiveTasks: 1000 }));
    await apiA.trigger('gc_race');
    // Leased on replica A, so that A completes them by its quiet (batched) path.
    const leases = await apiA.lease('racer', { queues: ['gc_race'], capacity: 40 });
    expect(leases).toHaveLength(40);
    const before = await batching(a, 'complete');
    const outcomes = await Promise.all(
      leases.map(async (l) => {
        const [viaA, viaB] = await Promise.all([
          apiA.complete(l.leaseId, { status: 'success' }),
          apiB.complete(l.leaseId, { status: 'failed', error: 'raced', retryable: false }),
        ]);
        return { leaseId: l.leaseId as string, viaA, viaB };
      }),
    );
    for (const o of outcomes) {
      const accepted = [o.viaA, o.viaB].filter((r) => r.status === 200);
      const refused = [o.viaA, o.viaB].filter((r) => r.status === 409);
      expect({ lease: o.leaseId, accepted: accepted.length, refused: refused.length }).toEqual({ lease: o.leaseId, accepted: 1, refused: 1 });
      expect(accepted[0]!.body.duplicate).toBe(false);
      // The task ended as the accepted completion said, and its try records that completion once.
      const { rows } = await db.query(
        `SELECT ti.state, t.state AS try_state, t.completion_hash IS NOT NULL AS hashed
         FROM task_instance_tries t JOIN task_instances ti ON ti.id = t.task_instance_id WHERE t.lease_id = $1`,
        [o.leaseId],
      );
      const want = o.viaA.status === 200 ? 'success' : 'failed';
      expect(rows).toEqual([{ state: want, try_state: want, hashed: true }]);
    }
    const after = await batching(a, 'complete');
    // Some of A's completions were served in batches of more than one.
    expect(after.items - before.items).toBeGreaterThan(after.batches - before.batches);
    const { rows: leftover } = await db.query(`SELECT count(*)::int AS n FROM leases l JOIN task_instances ti ON ti.id = l.task_instance_id WHERE ti.dag_id = 'gc_race'`);
    expect(leftover[0].n).toBe(0);
  });

  it('two batches completing the same attempts at once (two connections): each attempt ends once', async () => {
    const tasks = Array.from({ length: 30 }, (_, i) => ({ taskId: `t${i}` }));
    await apiA.registerDag(dag('gc_two_batches', tasks, { maxActiveTasks: 1000 }));
    await apiA.trigger('gc_two_batches');
    const { rows: claimed } = await db.query<{ leaseId: string; dagRunId: number; tryNumber: number }>(
      `SELECT lease_id AS "leaseId", dag_run_id AS "dagRunId", try_number AS "tryNumber"
       FROM weft_claim_tasks('sql-racer', '{gc_two_batches}', NULL, 30, 60, NULL, NULL, now())`,
    );
    expect(claimed).toHaveLength(30);
    // 29 of 30 are quiet completions (the run's last needs an evaluation and is left alone here).
    const items = (hash: string) =>
      claimed.slice(0, 29).map((c) => ({ leaseId: c.leaseId, callerKeyId: null, tryNumber: c.tryNumber, to: 'success' as const, now: new Date(), error: null, nextRetryAt: null, completionHash: hash }));
    const runs = a.app.get(RunsRepository);
    const [c1, c2] = await connect(2);
    try {
      const [r1, r2] = await Promise.all([runs.finishQuietlyMany(c1!, items('first')), runs.finishQuietlyMany(c2!, items('second'))]);
      const done1 = r1.map((r) => r.outcome === 'done');
      const done2 = r2.map((r) => r.outcome === 'done');
      for (let i = 0; i < 29; i++) {
        expect([done1[i], done2[i]].filter(Boolean)).toHaveLength(1);
        expect([r1[i]!.outcome, r2[i]!.outcome].sort()).toEqual(['done', 'stale']);
      }
      const { rows } = await db.query<{ leaseId: string; hash: string }>(
        `SELECT lease_id AS "leaseId", completion_hash AS hash FROM task_instance_tries WHERE lease_id = ANY ($1::uuid[])`,
        [claimed.slice(0, 29).map((c) => c.leaseId)],
      );
      const winner = new Map(claimed.slice(0, 29).map((c, i) => [c.leaseId, done1[i] ? 'first' : 'second']));
      for (const r of rows) expect(r.hash).toBe(winner.get(r.leaseId));
    } finally {
      await Promise.all([c1!.end(), c2!.end()]);
    }
  });

  it('one bad item of a batch does not fail the others: each gets its own outcome', async () => {
    await apiA.registerDag(dag('gc_items', [{ taskId: 'a' }, { taskId: 'b' }, { taskId: 'c' }, { taskId: 'd' }]));
    await apiA.trigger('gc_items');
    const { rows: claimed } = await db.query<{ leaseId: string; tryNumber: number; taskId: string }>(
      `SELECT lease_id AS "leaseId", try_number AS "tryNumber", task_id AS "taskId"
       FROM weft_claim_tasks('items', '{gc_items}', NULL, 4, 60, NULL, NULL, now()) ORDER BY task_id`,
    );
    const item = (leaseId: string, tryNumber: number) => ({ leaseId, callerKeyId: null, tryNumber, to: 'success' as const, now: new Date(), error: null, nextRetryAt: null, completionHash: 'h' });
    const out = await a.app.get(RunsRepository).finishQuietlyMany(db, [
      item(claimed[0]!.leaseId, claimed[0]!.tryNumber),
      item(randomUUID(), 1), // no such lease
      item(claimed[1]!.leaseId, claimed[1]!.tryNumber + 1), // not its try
      item(claimed[2]!.leaseId, claimed[2]!.tryNumber),
    ]);
    expect(out.map((o) => o.outcome)).toEqual(['done', 'stale', 'stale', 'done']);
    expect(await apiA.taskStates('gc_items', (await apiA.ok('GET', '/api/v1/dags/gc_items/dagRuns')).items[0].runId)).toEqual({
      a: 'success',
      b: 'running',
      c: 'success',
      d: 'running',
    });
  });

  it("a run's last successes in one batch are left to the evaluation, and the run still ends", async () => {
    await apiA.registerDag(dag('gc_last', [{ taskId: 'a' }, { taskId: 'b' }, { taskId: 'c' }]));
    await apiA.trigger('gc_last');
    const { rows: claimed } = await db.query<{ leaseId: string; tryNumber: number; taskId: string }>(
      `SELECT lease_id AS "leaseId", try_number AS "tryNumber", task_id AS "taskId"
       FROM weft_claim_tasks('last', '{gc_last}', NULL, 3, 60, NULL, NULL, now()) ORDER BY task_id`,
    );
    const [ta, tb, tc] = claimed;
    const item = (c: { leaseId: string; tryNumber: number }) => ({ leaseId: c.leaseId, callerKeyId: null, tryNumber: c.tryNumber, to: 'success' as const, now: new Date(), error: null, nextRetryAt: null, completionHash: 'h' });
    const runs = a.app.get(RunsRepository);
    // b and c still run: a ends quietly. The same lease twice in a batch: its first appearance decides.
    expect((await runs.finishQuietlyMany(db, [item(ta!), item(ta!)])).map((o) => o.outcome)).toEqual(['done', 'stale']);
    // b and c are all that is unfinished: as one after the other, b ends (c still runs) and c, the run's last, is left
    // to an evaluation, written nothing.
    expect((await runs.finishQuietlyMany(db, [item(tb!), item(tc!)])).map((o) => o.outcome)).toEqual(['done', 'evaluate']);
    const runId = (await apiA.ok('GET', '/api/v1/dags/gc_last/dagRuns')).items[0].runId;
    expect(await apiA.taskStates('gc_last', runId)).toEqual({ a: 'success', b: 'success', c: 'running' });
    // Completed the general way (not claimed by the service), it ends the run.
    const end = await apiA.complete(tc!.leaseId, { status: 'success' });
    expect(end.status).toBe(200);
    expect(end.body.runState).toBe('success');
    expect((await apiA.ok('GET', `/api/v1/dags/gc_last/dagRuns/${runId}`)).state).toBe('success');
  });
});

describe('group commit of claims', () => {
  it('one claim for several requests hands tasks out in claim order, the first request first, each under its own worker', async () => {
    const tasks = Array.from({ length: 6 }, (_, i) => ({ taskId: `p${i}`, priorityWeight: 10 - i }));
    await apiA.registerDag(dag('gc_order', tasks));
    await apiA.trigger('gc_order');
    const { rows: claimed } = await db.query<{ requester: number; lease_id: string }>(
      `SELECT requester, lease_id FROM weft_claim_tasks_many('{ow1,ow2,ow3}', '{gc_order}', NULL, '{2,1,5}', 60, '{NULL,NULL,NULL}', '{h1,h2,h3}', now())`,
    );
    const { rows } = await db.query<{ requester: number; task_id: string; worker_id: string; hostname: string }>(
      `SELECT c.requester, ti.task_id, l.worker_id, t.hostname
       FROM unnest($1::int[], $2::uuid[]) AS c(requester, lease_id)
       JOIN leases l ON l.id = c.lease_id JOIN task_instances ti ON ti.id = l.task_instance_id
       JOIN task_instance_tries t ON t.lease_id = c.lease_id
       ORDER BY c.requester, ti.task_id`,
      [claimed.map((c) => c.requester), claimed.map((c) => c.lease_id)],
    );
    expect(rows).toEqual([
      { requester: 1, task_id: 'p0', worker_id: 'ow1', hostname: 'h1' },
      { requester: 1, task_id: 'p1', worker_id: 'ow1', hostname: 'h1' },
      { requester: 2, task_id: 'p2', worker_id: 'ow2', hostname: 'h2' },
      { requester: 3, task_id: 'p3', worker_id: 'ow3', hostname: 'h3' },
      { requester: 3, task_id: 'p4', worker_id: 'ow3', hostname: 'h3' },
      { requester: 3, task_id: 'p5', worker_id: 'ow3', hostname: 'h3' },
    ]);
    const { rows: workers } = await db.query(`SELECT id, capacity FROM workers WHERE id LIKE 'ow%' ORDER BY id`);
    expect(workers).toEqual([{ id: 'ow1', capacity: 2 }, { id: 'ow2', capacity: 1 }, { id: 'ow3', capacity: 5 }]);
  });

  it('a lone lease request is served at once, in a batch of its own', async () => {
    await apiA.registerDag(dag('gc_lone', [{ taskId: 'x' }, { taskId: 'y' }]));
    await apiA.trigger('gc_lone');
    const before = await batching(a, 'claim');
    for (const w of ['l1', 'l2', 'l3']) {
      const got = await apiA.lease(w, { queues: ['gc_lone'], capacity: 1 });
      for (const l of got) expect((await apiA.complete(l.leaseId, { status: 'success' })).status).toBe(200);
    }
    const after = await batching(a, 'claim');
    expect(after.batches - before.batches).toBe(3);
    expect(after.items - before.items).toBe(3);
  });

  /**
   * `workers` lease loops per replica, each claiming 1–3 tasks at a time over the lease API and completing them a
   * moment later, until the queue is drained, while a sampler reads what the database holds against the limit.
   */
  async function churn(queue: string, workersPerReplica: number, usageSql: string): Promise<{ ran: number; max: number; samples: number }> {
    const [sampleConn] = await connect(1);
    let stop = false;
    let max = 0;
    let samples = 0;
    const sampler = (async () => {
      while (!stop) {
        const { rows } = await sampleConn!.query<{ n: number }>(usageSql);
        max = Math.max(max, rows[0]!.n);
        samples++;
      }
    })();
    let ran = 0;
    try {
      await Promise.all(
        [apiA, apiB].flatMap((api, r) =>
          Array.from({ length: workersPerReplica }, async (_, i) => {
            let idle = 0;
            while (idle < 15) {
              const got = await api.lease(`${queue}-${r}-${i}`, { queues: [queue], capacity: 1 + ((i + idle) % 3) });
              if (!got.length) {
                idle++;
                await sleep(3);
                continue;
              }
              idle = 0;
              await sleep(1 + (i % 3));
              for (const l of got) expect((await api.complete(l.leaseId, { status: 'success' })).status).toBe(200);
              ran += got.length;
            }
          }),
        ),
      );
    } finally {
      stop = true;
      await sampler;
      await sampleConn!.end();
    }
    return { ran, max, samples };
  }

  it('many concurrent lease requests on two replicas never exceed a pool, and each task runs once', async () => {
    await apiA.ok('POST', '/api/v1/pools', { name: 'gc_narrow', slots: 4 });
    const tasks = Array.from({ length: 80 }, (_, i) => ({ taskId: `t${i}`, pool: 'gc_narrow', poolSlots: i % 4 === 0 ? 2 : 1 }));
    await apiA.registerDag(dag('gc_pool', tasks, { maxActiveTasks: 1000 }));
    await apiA.trigger('gc_pool');
    const before = [await batching(a, 'claim'), await batching(b, 'claim')];
    const { ran, max, samples } = await churn('gc_pool', 10, `SELECT coalesce(sum(pool_slots), 0)::int AS n FROM leases WHERE pool = 'gc_narrow'`);
    expect(ran).toBe(80);
    expect(samples).toBeGreaterThan(10);
    expect(max).toBeLessThanOrEqual(4);
    const { rows } = await db.query(`SELECT count(*)::int AS tries, count(DISTINCT task_instance_id)::int AS tasks FROM task_instance_tries t JOIN task_instances ti ON ti.id = t.task_instance_id WHERE ti.dag_id = 'gc_pool'`);
    expect(rows[0]).toEqual({ tries: 80, tasks: 80 });
    const after = [await batching(a, 'claim'), await batching(b, 'claim')];
    const grouped = after.some((x, i) => x.items - before[i]!.items > x.batches - before[i]!.batches);
    expect(grouped).toBe(true);
  });

  it("many concurrent lease requests on two replicas never exceed a DAG's maxActiveTasks", async () => {
    const tasks = Array.from({ length: 60 }, (_, i) => ({ taskId: `t${i}` }));
    await apiA.registerDag(dag('gc_capped', tasks, { maxActiveTasks: 3 }));
    await apiA.trigger('gc_capped');
    const { ran, max } = await churn('gc_capped', 8, `SELECT count(*)::int AS n FROM task_instances WHERE dag_id = 'gc_capped' AND state = 'running'`);
    expect(ran).toBe(60);
    expect(max).toBeLessThanOrEqual(3);
  });
});
