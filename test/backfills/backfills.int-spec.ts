import { describe, expect, it } from '@jest/globals';
import { Api, dag } from '../support/api.js';
import { startTestApp, useTestApp } from '../support/app.js';

const ctx = useTestApp();
const api = new Api(() => ctx.t.app);

const daily = (dagId: string, extra: Record<string, unknown> = {}) =>
  dag(dagId, [{ taskId: 'a' }, { taskId: 'b', dependsOn: ['a'] }], { schedule: '@daily', startDate: '2030-01-01T00:00:00Z', ...extra });

/** Runs workers until the backfill is done, sampling how many of its runs are active at once. */
async function runBackfill(api: Api, id: number, queue: string): Promise<number> {
  let max = 0;
  for (let i = 0; i < 500; i++) {
    const { rows } = await ctx.db.query(`SELECT count(*)::int AS n FROM dag_runs WHERE backfill_id = $1 AND state IN ('queued', 'running')`, [id]);
    max = Math.max(max, rows[0].n);
    const leases = await api.lease(`bf-${queue}`, { queues: [queue], capacity: 2 });
    for (const l of leases) await api.complete(l.leaseId, { status: 'success' });
    if (!leases.length && (await api.ok('GET', `/api/v1/backfills/${id}`)).state === 'completed') return max;
  }
  throw new Error(`backfill ${id} did not complete`);
}

describe('backfills', () => {
  it('runs 30 days oldest first, never more than maxActiveRuns at once; the same backfill again creates nothing', async () => {
    await api.registerDag(daily('bf30'));
    const dry = await api.ok('POST', '/api/v1/backfills', {
      dagId: 'bf30', fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-30T00:00:00Z', maxActiveRuns: 3, dryRun: true,
    });
    expect(dry.create).toHaveLength(30);
    expect(dry.create[0]).toBe('2024-01-01T00:00:00.000Z');
    expect((await api.ok('GET', '/api/v1/backfills?dagId=bf30')).totalEntries).toBe(0);

    const res = await api.call('POST', '/api/v1/backfills', { dagId: 'bf30', fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-30T00:00:00Z', maxActiveRuns: 3 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ state: 'running', counts: { pending: 27, running: 3 } });
    const id = res.body.id;

    const concurrent = await api.call('POST', '/api/v1/backfills', { dagId: 'bf30', fromDate: '2024-02-01T00:00:00Z', toDate: '2024-02-02T00:00:00Z' });
    expect(concurrent.status).toBe(409);

    const max = await runBackfill(api, id, 'bf30');
    expect(max).toBe(3);
    const { rows } = await ctx.db.query(
      `SELECT logical_date, run_type, state FROM dag_runs WHERE dag_id = 'bf30' ORDER BY start_date, logical_date`,
    );
    expect(rows).toHaveLength(30);
    expect(rows.every((r) => r.run_type === 'backfill' && r.state === 'success')).toBe(true);
    // Started oldest first.
    const started = rows.map((r) => r.logical_date.getTime());
    expect(started).toEqual([...started].sort((a, b) => a - b));

    const again = await api.ok('POST', '/api/v1/backfills', { dagId: 'bf30', fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-30T00:00:00Z' });
    expect(again).toMatchObject({ state: 'completed', counts: { skipped: 30 } });
    expect((await ctx.db.query(`SELECT count(*)::int AS n FROM dag_runs WHERE dag_id = 'bf30'`)).rows[0].n).toBe(30);
  });

  it('counts its dates one way in the API and in backfill_progress events, a date whose run row is gone included', async () => {
    await api.registerDag(daily('bf_counts'));
    const { id } = await api.ok('POST', '/api/v1/backfills', { dagId: 'bf_counts', fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-03T00:00:00Z' });
    await runBackfill(api, id, 'bf_counts');
    // A run deleted behind the backfill's back (retention, an operator): its date has no state left to count.
    await ctx.db.query(`DELETE FROM dag_runs WHERE backfill_id = $1 AND logical_date = '2024-01-02T00:00:00Z'`, [id]);
    const counts = (await api.ok('GET', `/api/v1/backfills/${id}`)).counts;
    expect(counts).toEqual({ pending: 0, skipped: 0, queued: 0, running: 0, success: 2, failed: 0 });
    // The numberer's payload for the next progress event counts the same way.
    await ctx.db.query(`UPDATE backfills SET is_paused = NOT is_paused WHERE id = $1`, [id]);
    await ctx.db.query('SELECT weft_events_number(100000)');
    const { rows } = await ctx.db.query(`SELECT payload FROM events WHERE stream = $1 ORDER BY seq DESC LIMIT 1`, [`backfill:${id}`]);
    expect(rows[0].payload).toMatchObject({ ...counts, total: 3 });
  });

  it('reprocesses failed runs with reprocessBehavior failed, newest first with runBackwards', async () => {
    await api.registerDag(daily('bf_re'));
    const first = await api.ok('POST', '/api/v1/backfills', { dagId: 'bf_re', fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-04T00:00:00Z', maxActiveRuns: 4 });
    // Fail day 2 and day 4; the others succeed.
    await api.drain('bf_re', (l) => ({ status: l.taskId === 'a' && /01-0[24]/.test(l.runId) ? 'failed' : 'success' }));
    expect((await api.ok('GET', `/api/v1/backfills/${first.id}`)).counts).toMatchObject({ success: 2, failed: 2 });

    const dry = await api.ok('POST', '/api/v1/backfills', {
      dagId: 'bf_re', fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-04T00:00:00Z', reprocessBehavior: 'failed', runBackwards: true, dryRun: true,
    });
    expect(dry.reprocess.map((r: any) => r.logicalDate.slice(0, 10))).toEqual(['2024-01-04', '2024-01-02']);
    expect(dry.skip).toHaveLength(2);

    const second = await api.ok('POST', '/api/v1/backfills', {
      dagId: 'bf_re', fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-04T00:00:00Z', reprocessBehavior: 'failed', runBackwards: true, maxActiveRuns: 1,
    });
    expect(second.items.filter((i: any) => i.status === 'started').map((i: any) => i.runId.slice(10, 20))).toEqual(['2024-01-04']);
    await runBackfill(api, second.id, 'bf_re');
    const { rows } = await ctx.db.query(`SELECT state, count(*)::int AS n FROM dag_runs WHERE dag_id = 'bf_re' GROUP BY state`);
    expect(rows).toEqual([{ state: 'success', n: 4 }]);
    const tries = await api.ok('GET', `/api/v1/dags/bf_re/dagRuns/${encodeURIComponent('backfill__2024-01-02T00:00:00+00:00')}/taskInstances/a`);
    expect(tries.tries.map((x: any) => x.state)).toEqual(['failed', 'success']);
  });

  it('shares logical dates with the schedule without ever creating two runs for one', async () => {
    await api.registerDag(daily('bf_sched', { startDate: '2024-01-01T00:00:00Z', maxActiveRuns: 50 }));
    await api.tick(new Date('2024-01-06T00:00:01Z')); // schedule creates Jan 1-5
    const bf = await api.ok('POST', '/api/v1/backfills', { dagId: 'bf_sched', fromDate: '2024-01-03T00:00:00Z', toDate: '2024-01-08T00:00:00Z' });
    expect(bf.counts).toMatchObject({ skipped: 3 });
    await api.tick(new Date('2024-01-10T00:00:01Z'));
    const { rows } = await ctx.db.query(`SELECT count(*)::int AS n, count(DISTINCT logical_date)::int AS d FROM dag_runs WHERE dag_id = 'bf_sched'`);
    expect(rows[0]).toEqual({ n: 9, d: 9 });
  });

  it('pauses, unpauses and cancels', async () => {
    await api.registerDag(daily('bf_ctl'));
    const bf = await api.ok('POST', '/api/v1/backfills', { dagId: 'bf_ctl', fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-10T00:00:00Z', maxActiveRuns: 2 });
    expect((await api.ok('POST', `/api/v1/backfills/${bf.id}/pause`)).state).toBe('paused');
    await api.drain('bf_ctl');
    expect((await api.ok('GET', `/api/v1/backfills/${bf.id}`)).counts).toMatchObject({ success: 2, pending: 8 });
    const resumed = await api.ok('POST', `/api/v1/backfills/${bf.id}/unpause`);
    expect(resumed.counts).toMatchObject({ running: 2, pending: 6 });
    const canceled = await api.ok('POST', `/api/v1/backfills/${bf.id}/cancel`);
    expect(canceled).toMatchObject({ state: 'canceled', counts: { skipped: 6, running: 2 } });
    await api.drain('bf_ctl');
    expect((await ctx.db.query(`SELECT count(*)::int AS n FROM dag_runs WHERE dag_id = 'bf_ctl'`)).rows[0].n).toBe(4);
    expect((await api.call('POST', `/api/v1/backfills/${bf.id}/unpause`)).status).toBe(409);
  });

  it('rejects bad input naming the field', async () => {
    const res = await api.call('POST', '/api/v1/backfills', { dagId: 'bf30', fromDate: 'soon', toDate: '2024-01-01T00:00:00Z', reprocessBehavior: 'all' });
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: any) => d.path).sort()).toEqual(['fromDate', 'reprocessBehavior']);
    const backwards = await api.call('POST', '/api/v1/backfills', { dagId: 'bf30', fromDate: '2024-02-01T00:00:00Z', toDate: '2024-01-01T00:00:00Z' });
    expect(backwards.status).toBe(400);
    expect(backwards.body.details[0].path).toBe('toDate');
    await api.registerDag(dag('manual_only', [{ taskId: 'a' }]));
    expect((await api.call('POST', '/api/v1/backfills', { dagId: 'manual_only', fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-02T00:00:00Z' })).status).toBe(400);
    expect((await api.call('POST', '/api/v1/backfills', { dagId: 'ghost', fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-02T00:00:00Z' })).status).toBe(404);
  });

  it('loses and duplicates nothing when the scheduler is killed mid-backfill and restarted', async () => {
    await api.registerDag(
      dag('bf_restart', [{ taskId: 'a', retries: 1, retryDelaySec: 0 }, { taskId: 'b', dependsOn: ['a'], retries: 1, retryDelaySec: 0 }], {
        schedule: '@daily',
        startDate: '2030-01-01T00:00:00Z',
      }),
    );
    const first = await startTestApp({}, { databaseUrl: ctx.t.db.url });
    const a = new Api(first.app);
    const bf = await a.ok('POST', '/api/v1/backfills', { dagId: 'bf_restart', fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-12T00:00:00Z', maxActiveRuns: 3 });
    // Some progress, then a lease is left dangling and the process goes away.
    for (let i = 0; i < 3; i++) for (const l of await a.lease('x', { queues: ['bf_restart'], capacity: 2 })) await a.complete(l.leaseId, { status: 'success' });
    await a.lease('x', { queues: ['bf_restart'], capacity: 1 });
    await first.app.close();

    const second = await startTestApp({}, { databaseUrl: ctx.t.db.url });
    const b = new Api(second.app);
    try {
      // The dangling lease expires and is retried after the restart.
      await b.tick(new Date(Date.now() + 120_000));
      for (let i = 0; i < 100 && (await b.ok('GET', `/api/v1/backfills/${bf.id}`)).state !== 'completed'; i++) {
        await b.tick(new Date(Date.now() + 120_000));
        for (const l of await b.lease('y', { queues: ['bf_restart'], capacity: 3 })) await b.complete(l.leaseId, { status: 'success' });
      }
      const { rows } = await ctx.db.query(
        `SELECT count(*)::int AS n, count(DISTINCT logical_date)::int AS d, count(*) FILTER (WHERE state = 'success')::int AS ok
         FROM dag_runs WHERE dag_id = 'bf_restart'`,
      );
      expect(rows[0]).toEqual({ n: 12, d: 12, ok: 12 });
      expect((await b.ok('GET', `/api/v1/backfills/${bf.id}`)).state).toBe('completed');
    } finally {
      await second.app.close();
    }
  });
});
