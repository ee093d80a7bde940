import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { Api, dag } from '../support/api.js';
import { useTestApp } from '../support/app.js';

const ctx = useTestApp();
const api = new Api(() => ctx.t.app);

/**
 * The outbox triggers under concurrent writers: transactions that each change task states of several runs, some
 * rolled back. Each stream must come out numbered 1..n with no
 * gap and no duplicate, one event per committed change, and no transaction may deadlock on the counters.
 */
describe('event outbox numbering', () => {
  it('numbers every stream gaplessly in commit order under 8 concurrent writers, rollbacks included', async () => {
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
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));

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
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM event_flushes')).rows[0].n).toBe(0);
    expect(runIds).toHaveLength(4);
  });

  it('writes nothing for a statement that changes no state, and one NOTIFY per transaction listing the streams that moved, while someone listens', async () => {
    await api.registerDag(dag('outbox_notify', [{ taskId: 'a' }, { taskId: 'b' }]));
    const run = await api.trigger('outbox_notify');
    const listener = new pg.Client({ connectionString: ctx.t.db.url });
    await listener.connect();
    const payloads: string[] = [];
    listener.on('notification', (n) => payloads.push(n.payload ?? ''));
    await listener.query('LISTEN weft_events');
    try {
      const before = (await ctx.db.query(`SELECT count(*)::int AS n FROM events`)).rows[0].n;
      await ctx.db.query(`UPDATE task_instances SET priority_weight = priority_weight WHERE dag_id = 'outbox_notify'`);
      expect((await ctx.db.query(`SELECT count(*)::int AS n FROM events`)).rows[0].n).toBe(before);

      const { rows } = await ctx.db.query(`SELECT id FROM dag_runs WHERE dag_id = 'outbox_notify' AND run_id = $1`, [run.runId]);
      const stream = `ti:${rows[0].id}`;
      const last = Number((await ctx.db.query('SELECT seq FROM event_streams WHERE stream = $1', [stream])).rows[0]?.seq ?? 0);
      // Nobody subscribed (no process registered in event_listeners): the events are written, no NOTIFY is sent.
      await ctx.db.query(`UPDATE task_instances SET state = 'scheduled' WHERE dag_id = 'outbox_notify' AND task_id = 'a'`);
      await new Promise((r) => setTimeout(r, 200));
      expect(payloads).toEqual([]);

      await ctx.db.query(`INSERT INTO event_listeners (id, expires_at) VALUES ('test', now() + interval '1 minute')`);
      await ctx.db.query('BEGIN');
      await ctx.db.query(`UPDATE task_instances SET state = 'skipped' WHERE dag_id = 'outbox_notify' AND task_id = 'a'`);
      await ctx.db.query(`UPDATE task_instances SET state = 'skipped' WHERE dag_id = 'outbox_notify' AND task_id = 'b'`);
      await ctx.db.query('COMMIT');
      await new Promise((r) => setTimeout(r, 200));
      expect(payloads).toEqual([`${stream} ${last + 3}`]);
      await ctx.db.query(`DELETE FROM event_listeners WHERE id = 'test'`);
    } finally {
      await listener.end();
    }
  });
});
