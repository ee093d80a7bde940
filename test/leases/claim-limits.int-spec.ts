import { describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { Api, dag } from '../support/api.js';
import { startTestApp, useTestApp } from '../support/app.js';
import { sample } from '../support/metrics.js';
import { waitFor } from '../support/wait.js';
import { QueueWakeups } from '../../src/engine/leases/queue-wakeups.service.js';

const ctx = useTestApp({ WEFT_QUEUED_TIMEOUT_SEC: '0' });
const api = new Api(() => ctx.t.app);

/**
 * Pools and maxActiveTasks under concurrent claimers, checked at the database: claimers on connections of their
 * own call weft_claim_tasks (the claim the lease API makes) while others end attempts, and a sampler reads the
 * committed usage all along. Whatever the interleaving, no committed state may exceed a limit.
 */
type Claimed = { leaseId: string; taskInstanceId: number };

async function connect(n: number): Promise<pg.Client[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const c = new pg.Client({ connectionString: ctx.t.db.url });
      await c.connect();
      return c;
    }),
  );
}

async function claim(c: pg.Client, worker: string, queue: string, capacity: number): Promise<Claimed[]> {
  const { rows } = await c.query<Claimed & { blocked: boolean }>(
    `SELECT lease_id AS "leaseId", task_instance_id AS "taskInstanceId", blocked
     FROM weft_claim_tasks($1, $2, NULL, $3, 60, NULL, NULL, now())`,
    [worker, [queue], capacity],
  );
  return rows.filter((r) => r.leaseId !== null);
}

/** Ends an attempt as a completion does (lease row gone, task finished), in one transaction. */
async function finish(c: pg.Client, t: Claimed): Promise<void> {
  await c.query(
    `WITH gone AS (DELETE FROM leases WHERE id = $1)
     UPDATE task_instances SET state = 'success', end_date = now() WHERE id = $2`,
    [t.leaseId, t.taskInstanceId],
  );
}

/** Polls `sql` (one number) until stopped; returns the largest value seen. */
function sampler(c: pg.Client, sql: string, params: unknown[]) {
  let stop = false;
  let max = 0;
  let samples = 0;
  const loop = (async () => {
    while (!stop) {
      const { rows } = await c.query<{ n: number }>(sql, params);
      max = Math.max(max, rows[0]!.n);
      samples++;
    }
  })();
  return async () => {
    stop = true;
    await loop;
    return { max, samples };
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `claimers` loops claim up to a random capacity, hold what they got a few ms, then end it; until the queue is
 * drained. Returns the number of tasks run.
 */
async function churn(clients: pg.Client[], queue: string, maxCapacity: number): Promise<number> {
  let ran = 0;
  await Promise.all(
    clients.map(async (c, i) => {
      let idle = 0;
      while (idle < 20) {
        const got = await claim(c, `w${i}`, queue, 1 + Math.floor(Math.random() * maxCapacity));
        if (!got.length) {
          idle++;
          await sleep(2);
          continue;
        }
        idle = 0;
        await sleep(Math.random() * 4);
        for (const t of got) await finish(c, t);
        ran += got.length;
      }
    }),
  );
  return ran;
}

describe('claim limits under concurrent claimers', () => {
  it('never exceeds a small pool, counting tasks that take several slots', async () => {
    await api.ok('POST', '/api/v1/pools', { name: 'narrow', slots: 5 });
    const tasks = Array.from({ length: 60 }, (_, i) => ({ taskId: `t${i}`, pool: 'narrow', poolSlots: i % 3 === 0 ? 2 : 1 }));
    await api.registerDag(dag('narrow_pool', tasks, { maxActiveTasks: 1000 }));
    await api.trigger('narrow_pool');
    const clients = await connect(9);
    try {
      const stop = sampler(clients[8]!, `SELECT coalesce(sum(pool_slots), 0)::int AS n FROM leases WHERE pool = 'narrow'`, []);
      const ran = await churn(clients.slice(0, 8), 'narrow_pool', 3);
      const { max, samples } = await stop();
      expect(ran).toBe(60);
      expect(samples).toBeGreaterThan(10);
      expect(max).toBeLessThanOrEqual(5);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it("never exceeds a DAG's maxActiveTasks", async () => {
    const tasks = Array.from({ length: 60 }, (_, i) => ({ taskId: `t${i}` }));
    await api.registerDag(dag('capped_dag', tasks, { maxActiveTasks: 3 }));
    await api.trigger('capped_dag');
    const clients = await connect(9);
    try {
      const stop = sampler(clients[8]!, `SELECT count(*)::int AS n FROM task_instances WHERE dag_id = $1 AND state = 'running'`, ['capped_dag']);
      const ran = await churn(clients.slice(0, 8), 'capped_dag', 4);
      const { max } = await stop();
      expect(ran).toBe(60);
      expect(max).toBeLessThanOrEqual(3);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('fills a large pool to its last slot and no further, from far below its limit (shared mode) to full (exact mode)', async () => {
    await api.ok('POST', '/api/v1/pools', { name: 'wide', slots: 150 });
    const tasks = Array.from({ length: 220 }, (_, i) => ({ taskId: `t${i}`, pool: 'wide' }));
    await api.registerDag(dag('wide_pool', tasks, { maxActiveTasks: 1000 }));
    await api.trigger('wide_pool');
    const clients = await connect(9);
    try {
      const stop = sampler(clients[8]!, `SELECT coalesce(sum(pool_slots), 0)::int AS n FROM leases WHERE pool = 'wide'`, []);
      // Phase 1: claim and hold, until no claimer gets anything more.
      const held: Claimed[][] = clients.slice(0, 8).map(() => []);
      await Promise.all(
        clients.slice(0, 8).map(async (c, i) => {
          for (let idle = 0; idle < 5; ) {
            const got = await claim(c, `h${i}`, 'wide_pool', 1 + Math.floor(Math.random() * 12));
            held[i]!.push(...got);
            idle = got.length ? 0 : idle + 1;
          }
        }),
      );
      const full = await clients[0]!.query(`SELECT coalesce(sum(pool_slots), 0)::int AS n FROM leases WHERE pool = 'wide'`);
      expect(full.rows[0].n).toBe(150);
      // Phase 2: release and claim concurrently until the queue is drained.
      await Promise.all(clients.slice(0, 8).map(async (c, i) => { for (const t of held[i]!) await finish(c, t); }));
      const ran = await churn(clients.slice(0, 8), 'wide_pool', 12);
      const { max } = await stop();
      expect(150 + ran).toBe(220);
      expect(max).toBe(150);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('a claim held back by a limit says so, and takes work of other DAGs behind it', async () => {
    await api.ok('POST', '/api/v1/pools', { name: 'one_slot', slots: 1 });
    await api.registerDag(dag('mixed', [{ taskId: 'a', pool: 'one_slot', priorityWeight: 10 }, { taskId: 'b', pool: 'one_slot', priorityWeight: 9 }, { taskId: 'c', priorityWeight: 1 }]));
    await api.trigger('mixed');
    const [c] = await connect(1);
    try {
      const first = await c!.query(`SELECT task_instance_id, blocked FROM weft_claim_tasks('x', '{mixed}', NULL, 1, 60, NULL, NULL, now())`);
      expect(first.rows).toEqual([expect.objectContaining({ blocked: false })]);
      // b is held back by the full pool; c (default_pool), lower in the order, is taken instead.
      const second = await c!.query(`SELECT ti.task_id, r.blocked FROM weft_claim_tasks('x', '{mixed}', NULL, 2, 60, NULL, NULL, now()) r JOIN task_instances ti ON ti.id = r.task_instance_id`);
      expect(second.rows).toEqual([{ task_id: 'c', blocked: true }]);
      const third = await c!.query(`SELECT lease_id, blocked FROM weft_claim_tasks('x', '{mixed}', NULL, 1, 60, NULL, NULL, now())`);
      expect(third.rows).toEqual([{ lease_id: null, blocked: true }]);
    } finally {
      await c!.end();
    }
  });
});

describe('wake-ups of waiting lease requests', () => {
  it('n queued tasks wake as many waiters as they need; the others keep waiting', async () => {
    await api.registerDag(dag('wake_two', [{ taskId: 'a' }, { taskId: 'b' }]));
    const started = Date.now();
    const waiting = [1, 2, 3].map((i) => api.lease(`ww${i}`, { queues: ['wake_two'], capacity: 1, waitSeconds: 3 }));
    await sleep(300);
    await api.trigger('wake_two');
    const got = await Promise.all(waiting);
    expect(got.map((l) => l.length).sort()).toEqual([0, 1, 1]);
    expect(got.flat().map((l) => l.taskId).sort()).toEqual(['a', 'b']);
    // The two were answered at once; only the third waited its full time.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    for (const l of got.flat()) await api.complete(l.leaseId, { status: 'success' });
  });

  it('a request held back by a full pool gets the task when the slot frees', async () => {
    await api.ok('POST', '/api/v1/pools', { name: 'single_slot', slots: 1 });
    await api.registerDag(dag('wake_slot', [{ taskId: 'first', pool: 'single_slot' }, { taskId: 'second', pool: 'single_slot' }]));
    await api.trigger('wake_slot');
    const [first] = await api.lease('ws1', { queues: ['wake_slot'], capacity: 1 });
    expect(first.taskId).toBe('first');
    // ws2's waits as the server sees them: which kind each is (a slot waiter is woken by freed slots), and how each
    // ended: true when woken, false when its time (the periodic look of a request held back by a limit, 1 s, or its
    // timeout) ran out.
    const wakeups = ctx.t.app.get(QueueWakeups);
    const entered: boolean[] = [];
    const waits: boolean[] = [];
    const original = wakeups.subscribe.bind(wakeups);
    const subscribe = jest.spyOn(wakeups, 'subscribe').mockImplementation((...args) => {
      const ticket = original(...args);
      if (args[3].workerId === 'ws2') {
        const wait = ticket.wait.bind(ticket);
        ticket.wait = async (...w) => {
          entered.push(ticket.waiter.slotWaiter);
          const woken = await wait(...w);
          waits.push(woken);
          return woken;
        };
      }
      return ticket;
    });
    try {
      const waiting = api.lease('ws2', { queues: ['wake_slot'], capacity: 1, waitSeconds: 10 });
      // Until the request waits. Its first wait already waits for a freed slot: it subscribed before its first look
      // found the pool full, and was held for slots when that look came back held back (LeasesService.leaseLoop).
      // Before that, a slot freed during the first wait was found only by the periodic look, up to 1 s later.
      await waitFor(async () => entered.length > 0, 'the request to wait');
      expect(entered).toEqual([true]);
      const freed = Date.now();
      await api.complete(first.leaseId, { status: 'success' });
      const [second] = await waiting;
      console.log(`the held-back request got the task ${Date.now() - freed} ms after the slot was freed; its waits ended ${JSON.stringify(waits)} (true: woken)`);
      expect(second.taskId).toBe('second');
      // Woken by the freed slot in its first wait, not by its periodic look (1 s) or its timeout. Server-side
      // evidence, not a clock.
      expect(waits).toEqual([true]);
      await api.complete(second.leaseId, { status: 'success' });
    } finally {
      subscribe.mockRestore();
    }
  });
});

describe('hand-off: the transaction that queues a task claims it for a request waiting in this process', () => {
  const handedOff = async () => {
    const res = await ctx.t.app.inject({ method: 'GET', url: '/metrics' });
    return sample(res.body, 'weft_leases_handed_off_total') ?? 0;
  };

  it('a waiting request gets the task its trigger queued, without a claim of its own', async () => {
    await api.registerDag(dag('hand_me', [{ taskId: 'a' }, { taskId: 'b', dependsOn: ['a'] }]));
    const before = await handedOff();
    const waiting = api.lease('hw1', { queues: ['hand_me'], capacity: 1, waitSeconds: 10 });
    await sleep(300);
    const run = await api.trigger('hand_me');
    const [a] = await waiting;
    expect(a.taskId).toBe('a');
    expect(await handedOff()).toBe(before + 1);
    // The completion's transaction queues b and hands it on the same way.
    const next = api.lease('hw2', { queues: ['hand_me'], capacity: 1, waitSeconds: 10 });
    await sleep(300);
    await api.complete(a.leaseId, { status: 'success' });
    const [b] = await next;
    expect(b.taskId).toBe('b');
    expect(await handedOff()).toBe(before + 2);
    const workers = await ctx.db.query(
      `SELECT t.task_id, l.worker_id FROM leases l JOIN task_instances t ON t.id = l.task_instance_id WHERE t.dag_id = 'hand_me'`,
    );
    expect(workers.rows).toEqual([{ task_id: 'b', worker_id: 'hw2' }]);
    await api.complete(b.leaseId, { status: 'success' });
    expect((await api.run('hand_me', run.runId)).state).toBe('success');
  });

  it('complete-and-lease-next: the completion hands what it queues to its own worker, ahead of a waiting one', async () => {
    await api.registerDag(dag('hand_next', [{ taskId: 'a' }, { taskId: 'b', dependsOn: ['a'] }]));
    await api.trigger('hand_next');
    const [a] = await api.lease('hn1', { queues: ['hand_next'], capacity: 1 });
    const before = await handedOff();
    const other = api.lease('hn2', { queues: ['hand_next'], capacity: 1, waitSeconds: 1 });
    await sleep(300);
    const res = await api.complete(a.leaseId, { status: 'success', next: { capacity: 1 } });
    expect(res.body.leases.map((l: { taskId: string }) => l.taskId)).toEqual(['b']);
    expect(await handedOff()).toBe(before + 1);
    expect(await other).toEqual([]);
    const owner = await ctx.db.query(`SELECT worker_id FROM leases WHERE id = $1`, [res.body.leases[0].leaseId]);
    expect(owner.rows).toEqual([{ worker_id: 'hn1' }]);
    await api.complete(res.body.leases[0].leaseId, { status: 'success' });
  });

  it('the NOTIFY counts only what the hand-off did not take, so no other request is woken for nothing', async () => {
    await api.registerDag(dag('quiet_one', [{ taskId: 'a' }]));
    await api.registerDag(dag('quiet_two', [{ taskId: 'a' }, { taskId: 'b' }]));
    const heard: string[] = [];
    const onNotify = (m: { channel: string; payload?: string }) => {
      if (m.channel === 'weft_task_queued' && m.payload?.startsWith('quiet_')) heard.push(m.payload);
    };
    ctx.db.on('notification', onNotify);
    await ctx.db.query('LISTEN weft_task_queued');
    try {
      // One task, one request waiting: handed off, nothing announced.
      const one = api.lease('qw1', { queues: ['quiet_one'], capacity: 1, waitSeconds: 10 });
      await sleep(300);
      await api.trigger('quiet_one');
      const [a] = await one;
      // Two tasks, one request of capacity 1 waiting: one handed off, the other announced.
      const two = api.lease('qw2', { queues: ['quiet_two'], capacity: 1, waitSeconds: 10 });
      await sleep(300);
      await api.trigger('quiet_two');
      const [b] = await two;
      // Nobody waiting: the statement announces the task itself.
      await api.trigger('quiet_one', { logicalDate: '2021-01-01T00:00:00Z' });
      await sleep(300);
      expect(heard).toEqual(['quiet_two:1', 'quiet_one:1']);
      for (const l of [a, b]) await api.complete(l.leaseId, { status: 'success' });
    } finally {
      await ctx.db.query('UNLISTEN weft_task_queued');
      ctx.db.off('notification', onNotify);
    }
  });

  it('across replicas: a task handed off here stays here; one queued with nobody waiting here wakes a request there', async () => {
    const other = await startTestApp({ WEFT_QUEUED_TIMEOUT_SEC: '0' }, { databaseUrl: ctx.t.db.url });
    const there = new Api(other.app);
    try {
      await api.registerDag(dag('replicas', [{ taskId: 'a' }]));
      // Both replicas have a request waiting; this replica's trigger hands the task to its own.
      const started = Date.now();
      const remote = there.lease('rw_there', { queues: ['replicas'], capacity: 1, waitSeconds: 2 });
      const local = api.lease('rw_here', { queues: ['replicas'], capacity: 1, waitSeconds: 2 });
      await sleep(300);
      await api.trigger('replicas');
      const [mine] = await local;
      expect(mine.taskId).toBe('a');
      // The other replica's request waits out its time and gets nothing (no NOTIFY went out for the task: see above).
      expect(await remote).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      await api.complete(mine.leaseId, { status: 'success' });
      // Nobody waiting here: the NOTIFY wakes the other replica's request at once.
      const sentAt = Date.now();
      const waiting = there.lease('rw_there', { queues: ['replicas'], capacity: 1, waitSeconds: 10 });
      await sleep(300);
      const queuedAt = Date.now();
      await api.trigger('replicas', { logicalDate: '2021-06-01T00:00:00Z' });
      const [theirs] = await waiting;
      const answeredAt = Date.now();
      console.log(`the other replica's request was answered ${answeredAt - queuedAt} ms after the task was queued (wait 10 s)`);
      expect(theirs.taskId).toBe('a');
      // Woken, not timed out: its timer cannot answer before its 10 s from the moment it was sent (and would then find
      // the task too), so an answer before then is the NOTIFY's doing, however slow the machine.
      expect(answeredAt - sentAt).toBeLessThan(10_000);
      await there.complete(theirs.leaseId, { status: 'success' });
    } finally {
      await other.close();
    }
  });

  it('a request that filters by task type is left to the notification', async () => {
    await api.registerDag(dag('typed_wait', [{ taskId: 'a', type: 'noop' }]));
    const before = await handedOff();
    const waiting = api.lease('hw3', { queues: ['typed_wait'], capacity: 1, waitSeconds: 10, taskTypes: ['noop'] });
    await sleep(300);
    await api.trigger('typed_wait');
    const [a] = await waiting;
    expect(a.taskId).toBe('a');
    expect(await handedOff()).toBe(before);
    await api.complete(a.leaseId, { status: 'success' });
  });

  it('a hand-off whose transaction fails at COMMIT hands nothing out: the request keeps waiting', async () => {
    // A deferred check that fails the COMMIT of the transaction that started task 'doomed'.
    await ctx.db.query(`
      CREATE FUNCTION test_doom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'doomed at commit'; END $$;
      CREATE CONSTRAINT TRIGGER test_doom AFTER UPDATE ON task_instances DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW WHEN (NEW.task_id = 'doomed' AND NEW.state = 'running') EXECUTE FUNCTION test_doom()`);
    try {
      await api.registerDag(dag('doom', [{ taskId: 'doomed' }]));
      const before = await handedOff();
      const started = Date.now();
      const waiting = api.lease('hw4', { queues: ['doom'], capacity: 1, waitSeconds: 2 });
      await sleep(300);
      const res = await api.call('POST', '/api/v1/dags/doom/dagRuns', {});
      expect(res.status).toBeGreaterThanOrEqual(500);
      // Woken by the failed hand-off, it looked for itself (nothing: the run was rolled back) and waited on.
      expect(await waiting).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      expect(await handedOff()).toBe(before);
      const left = await ctx.db.query(`SELECT count(*)::int AS n FROM dag_runs WHERE dag_id = 'doom'`);
      expect(left.rows[0].n).toBe(0);
    } finally {
      await ctx.db.query('DROP TRIGGER test_doom ON task_instances; DROP FUNCTION test_doom()');
    }
  });
});
