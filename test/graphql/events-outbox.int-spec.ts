import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { Api, dag } from '../support/api.js';
import { useTestApp } from '../support/app.js';

const ctx = useTestApp();
const api = new Api(() => ctx.t.app);

/**
 * The outbox under concurrent writers and numberers: transactions that each change task states of several runs,
 * some rolled back, while two numberers (weft_events_number) run in loops on their own connections. Each stream must
 * come out numbered 1..n with no gap and no duplicate, one event per committed change, and per task instance the
 * events in sequence order must chain (each starts from the state the previous one ended in).
 */
describe('event outbox numbering', () => {
  it('numbers every stream gaplessly, in order per task, under 8 concurrent writers and 2 numberers, rollbacks included', async () => {
    await api.registerDag(dag('outbox', Array.from({ length: 10 }, (_, i) => ({ taskId: `t${i}` }))));
    const runIds: number[] = [];
    for (let r = 0; r < 4; r++) runIds.push((await api.trigger("outbox", { runId: `r${r}` })).id);
    const { rows: tis } = await ctx.db.query<{ id: number }>(`SELECT id FROM task_instances WHERE dag_id = 'outbox' ORDER BY id`);
    expect(tis).toHaveLength(40);
    const before = await ctx.db.query(`SELECT count(*)::int AS n FROM events WHERE dag_id = 'outbox'`);

    const states = ['scheduled', 'queued', 'running', 'up_for_retry', 'none'];
    let committed = 0;
    const writer = async (w: number) => {
      const c = new pg.Client({ connectionString: ctx.t.db.url });
      await c.connect();
      try {
        for (let i = 0; i < 25; i++) {
          // 3–6 random task instances of different runs, locked in id order (as claims do; random row order would
          // deadlock on the rows themselves). Their streams' counters are taken at commit, in any order of runs.
          const pick = [...tis].sort(() => Math.random() - 0.5).slice(0, 3 + ((w + i) % 4)).sort((x, y) => x.id - y.id);
          await c.query('BEGIN');
          let changed = 0;
          for (const ti of pick) {
            const state = states[(w + i + ti.id) % states.length];
            const res = await c.query(`UPDATE task_instances SET state = $2 WHERE id = $1 AND state <> $2::"TaskState"`, [ti.id, state]);
            changed += res.rowCount ?? 0;
          }
          if ((w + i) % 5 === 0) await c.query('ROLLBACK');
          else {
            await c.query('COMMIT');
            committed += changed;
          }
        }
      } finally {
        await c.end();
      }
    };
    let writing = true;
    let rounds = 0;
    const numberer = async () => {
      const c = new pg.Client({ connectionString: ctx.t.db.url });
      await c.connect();
      try {
        while (writing) {
          await c.query('SELECT weft_events_number(7)'); // small batches: many rounds interleave with the writers
          rounds++;
        }
        await c.query('SELECT weft_events_number(100000)');
      } finally {
        await c.end();
      }
    };
    const numberers = [numberer(), numberer()];
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
    writing = false;
    await Promise.all(numberers);
    expect(rounds).toBeGreaterThan(2);

    const after = await ctx.db.query(`SELECT count(*)::int AS n FROM events WHERE dag_id = 'outbox'`);
    expect(after.rows[0].n - before.rows[0].n).toBe(committed);
    const { rows } = await ctx.db.query(
      `SELECT stream, count(*)::int AS n, min(seq)::int AS lo, max(seq)::int AS hi, count(DISTINCT seq)::int AS distinct_seqs,
              count(*) FILTER (WHERE seq IS NULL)::int AS unnumbered
         FROM events WHERE stream LIKE 'ti:%' AND dag_id = 'outbox' GROUP BY stream`,
    );
    expect(rows).toHaveLength(4);
    for (const r of rows) expect(r).toMatchObject({ lo: 1, hi: r.n, distinct_seqs: r.n, unnumbered: 0 });
    const counters = await ctx.db.query(`SELECT s.stream, s.seq::int AS seq FROM event_streams s WHERE s.stream = ANY($1)`, [rows.map((r) => r.stream)]);
    for (const c of counters.rows) expect(c.seq).toBe(rows.find((r) => r.stream === c.stream)!.n);
    expect(runIds).toHaveLength(4);
    const { rows: chains } = await ctx.db.query<{ task: string; states: Array<{ state: string; previousState: string | null }> }>(
      `SELECT stream || '/' || (payload->>'taskId') AS task,
              jsonb_agg(jsonb_build_object('state', payload->'state', 'previousState', payload->'previousState') ORDER BY seq) AS states
         FROM events WHERE stream LIKE 'ti:%' AND dag_id = 'outbox' GROUP BY 1`,
    );
    expect(chains.length).toBeGreaterThan(0);
    for (const c of chains) for (let i = 1; i < c.states.length; i++) expect(c.states[i]!.previousState).toBe(c.states[i - 1]!.state);
  });

  it('writes nothing for a statement that changes no state; while someone listens, one pending NOTIFY per transaction, and the numberer NOTIFYs the streams that moved', async () => {
    await api.registerDag(dag('outbox_notify', [{ taskId: 'a' }, { taskId: 'b' }]));
    const run = await api.trigger('outbox_notify');
    const listener = new pg.Client({ connectionString: ctx.t.db.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(`${n.channel}:${n.payload ?? ''}`));
    await listener.query('LISTEN weft_events; LISTEN weft_events_pending');
    const settle = () => new Promise((r) => setTimeout(r, 200));
    try {
      const before = (await ctx.db.query(`SELECT count(*)::int AS n FROM events`)).rows[0].n;
      await ctx.db.query(`UPDATE task_instances SET priority_weight = priority_weight WHERE dag_id = 'outbox_notify'`);
      expect((await ctx.db.query(`SELECT count(*)::int AS n FROM events`)).rows[0].n).toBe(before);

      const { rows } = await ctx.db.query(`SELECT id FROM dag_runs WHERE dag_id = 'outbox_notify' AND run_id = $1`, [run.runId]);
      const stream = `ti:${rows[0].id}`;
      await ctx.db.query('SELECT weft_events_number(100000)');
      await settle();
      heard.length = 0;
      const last = Number((await ctx.db.query('SELECT seq FROM event_streams WHERE stream = $1', [stream])).rows[0]?.seq ?? 0);
      // Nobody subscribed (no process registered in event_listeners): the events are written, unnumbered, and no
      // NOTIFY is sent.
      await ctx.db.query(`UPDATE task_instances SET state = 'scheduled' WHERE dag_id = 'outbox_notify' AND task_id = 'a'`);
      await settle();
      expect(heard).toEqual([]);
      expect((await ctx.db.query(`SELECT count(*)::int AS n FROM events WHERE stream = $1 AND seq IS NULL`, [stream])).rows[0].n).toBe(1);

      await ctx.db.query(`INSERT INTO event_listeners (id, expires_at) VALUES ('test', now() + interval '1 minute')`);
      await ctx.db.query('BEGIN');
      await ctx.db.query(`UPDATE task_instances SET state = 'skipped' WHERE dag_id = 'outbox_notify' AND task_id = 'a'`);
      await ctx.db.query(`UPDATE task_instances SET state = 'skipped' WHERE dag_id = 'outbox_notify' AND task_id = 'b'`);
      await ctx.db.query('COMMIT');
      await settle();
      expect(heard).toEqual(['weft_events_pending:']);
      const moved = (await ctx.db.query('SELECT weft_events_number(100000) AS moved')).rows[0].moved;
      expect(moved).toBe(`${stream} ${last + 3}`);
      await settle();
      expect(heard).toEqual(['weft_events_pending:', `weft_events:${stream} ${last + 3}`]);
      expect((await ctx.db.query('SELECT weft_events_number(100000) AS moved')).rows[0].moved).toBeNull();
      await ctx.db.query(`DELETE FROM event_listeners WHERE id = 'test'`);
    } finally {
      await listener.end();
    }
  });

  it('writes an event for a task instance born in a state other than none, and none for those born none', async () => {
    await api.registerDag(dag('outbox_born', [{ taskId: 'a' }]));
    const run = await api.trigger('outbox_born');
    const { rows: [r] } = await ctx.db.query(`SELECT id FROM dag_runs WHERE dag_id = 'outbox_born' AND run_id = $1`, [run.runId]);
    const count = async () => (await ctx.db.query(`SELECT count(*)::int AS n FROM events WHERE stream = $1`, [`ti:${r.id}`])).rows[0].n;
    const before = await count();
    const insert = (taskId: string, state: string) =>
      ctx.db.query(
        `INSERT INTO task_instances (dag_run_id, dag_id, run_id, task_id, task_type, queue, pool, pool_slots, priority_weight, max_tries, logical_date, state, updated_at)
         SELECT id, dag_id, run_id, $2, 'noop', 'default', 'default_pool', 1, 1, 1, logical_date, $3::"TaskState", now() FROM dag_runs WHERE id = $1`,
        [r.id, taskId, state],
      );
    await insert('born_none', 'none');
    expect(await count()).toBe(before);
    await insert('born_scheduled', 'scheduled');
    expect(await count()).toBe(before + 1);
    const { rows } = await ctx.db.query(`SELECT payload FROM events WHERE stream = $1 ORDER BY id DESC LIMIT 1`, [`ti:${r.id}`]);
    expect(rows[0].payload).toMatchObject({ taskId: 'born_scheduled', state: 'scheduled', previousState: null });
  });

  it('folds the waiting progress marks of a backfill into one event, counted when numbered', async () => {
    await api.registerDag(dag('outbox_bf', [{ taskId: 'a' }], { schedule: '@daily', startDate: '2030-01-01T00:00:00Z' }));
    const bf = await api.call('POST', '/api/v1/backfills', { dagId: 'outbox_bf', fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-04T00:00:00Z' });
    expect(bf.status).toBe(201);
    const stream = `backfill:${bf.body.id}`;
    await ctx.db.query('SELECT weft_events_number(100000)');
    const n0 = (await ctx.db.query(`SELECT count(*)::int AS n FROM events WHERE stream = $1`, [stream])).rows[0].n;
    // Three more changes of its runs, in three transactions: three marks wait, one event comes out.
    for (const state of ['success', 'failed', 'running']) {
      await ctx.db.query(`UPDATE dag_runs SET state = $1 WHERE id = (SELECT min(id) FROM dag_runs WHERE backfill_id = $2)`, [state, bf.body.id]);
    }
    expect((await ctx.db.query(`SELECT count(*)::int AS n FROM events WHERE stream = $1 AND seq IS NULL`, [stream])).rows[0].n).toBe(3);
    await ctx.db.query('SELECT weft_events_number(100000)');
    const { rows } = await ctx.db.query(`SELECT seq::int AS seq, payload FROM events WHERE stream = $1 ORDER BY seq`, [stream]);
    expect(rows).toHaveLength(n0 + 1);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: n0 + 1 }, (_, i) => i + 1));
    const { counts } = await api.ok('GET', `/api/v1/backfills/${bf.body.id}`);
    expect(rows.at(-1)!.payload).toMatchObject({ backfillId: bf.body.id, ...counts });
    expect(rows.at(-1)!.payload.running).toBeGreaterThanOrEqual(1);
  });
});
