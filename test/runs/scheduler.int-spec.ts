import { describe, expect, it } from '@jest/globals';
import { Api, dag } from '../support/api.js';
import { startTestApp, useTestApp } from '../support/app.js';

const ctx = useTestApp();
const api = new Api(() => ctx.t.app);

async function runs(dagId: string): Promise<{ logicalDate: string; state: string; runType: string }[]> {
  const { items } = await api.ok('GET', `/api/v1/dags/${dagId}/dagRuns?limit=1000`);
  return items
    .map((r: any) => ({ logicalDate: r.logicalDate, state: r.state, runType: r.runType, dataIntervalEnd: r.dataIntervalEnd }))
    .sort((a: any, b: any) => a.logicalDate.localeCompare(b.logicalDate));
}

describe('scheduled runs', () => {
  it('creates every missed interval oldest first (catchup), each covering its data interval', async () => {
    await api.registerDag(
      dag('daily', [{ taskId: 'a' }], { schedule: '0 6 * * *', startDate: '2024-01-01T00:00:00Z', maxActiveRuns: 10 }),
    );
    const created = await api.tick(new Date('2024-01-04T07:00:00Z'));
    expect(created.created).toBe(3);
    const r = await runs('daily');
    expect(r.map((x: any) => [x.logicalDate, x.dataIntervalEnd])).toEqual([
      ['2024-01-01T06:00:00.000Z', '2024-01-02T06:00:00.000Z'],
      ['2024-01-02T06:00:00.000Z', '2024-01-03T06:00:00.000Z'],
      ['2024-01-03T06:00:00.000Z', '2024-01-04T06:00:00.000Z'],
    ]);
    expect(r.every((x) => x.runType === 'scheduled' && x.state === 'running')).toBe(true);
    // A second tick at the same time creates nothing more.
    expect((await api.tick(new Date('2024-01-04T07:00:00Z'))).created).toBe(0);
    const dagRow = await api.ok('GET', '/api/v1/dags/daily');
    expect(dagRow).toMatchObject({ nextDagrunLogicalDate: '2024-01-04T06:00:00.000Z', nextDagrunCreateAfter: '2024-01-05T06:00:00.000Z' });
  });

  it('creates only the latest complete interval without catchup', async () => {
    await api.registerDag(
      dag('no_catchup', [{ taskId: 'a' }], { schedule: '@hourly', startDate: '2024-01-01T00:00:00Z', catchup: false }),
    );
    await api.tick(new Date('2024-01-03T10:30:00Z'));
    expect((await runs('no_catchup')).map((x) => x.logicalDate)).toEqual(['2024-01-03T09:00:00.000Z']);
  });

  it('schedules in the DAG’s timezone and matches the preview', async () => {
    await api.registerDag(
      dag('amsterdam', [{ taskId: 'a' }], { schedule: '0 6 * * *', timezone: 'Europe/Amsterdam', startDate: '2024-03-29T00:00:00Z', maxActiveRuns: 10 }),
    );
    const preview = await api.ok('GET', '/api/v1/dags/amsterdam/schedulePreview?count=4');
    expect(preview.items.map((i: any) => i.logicalDate)).toEqual([
      '2024-03-29T05:00:00.000Z', // CET
      '2024-03-30T05:00:00.000Z',
      '2024-03-31T04:00:00.000Z', // CEST from 31 March
      '2024-04-01T04:00:00.000Z',
    ]);
    await api.tick(new Date(preview.items[3].runAfter));
    expect((await runs('amsterdam')).map((x) => x.logicalDate)).toEqual(preview.items.map((i: any) => i.logicalDate));
  });

  it('respects maxActiveRuns: queued runs wait and start oldest first', async () => {
    await api.registerDag(dag('one_at_a_time', [{ taskId: 'a' }], { schedule: '@daily', startDate: '2024-01-01T00:00:00Z', maxActiveRuns: 1 }));
    await api.tick(new Date('2024-01-04T00:00:01Z'));
    expect((await runs('one_at_a_time')).map((x) => x.state)).toEqual(['running', 'queued', 'queued']);
    await api.drain('one_at_a_time');
    // Each finished run started the next one immediately (no tick needed).
    expect((await runs('one_at_a_time')).map((x) => x.state)).toEqual(['success', 'success', 'success']);
  });

  it('skips paused DAGs and catches up when unpaused', async () => {
    await api.registerDag(dag('paused_dag', [{ taskId: 'a' }], { schedule: '@daily', startDate: '2024-01-01T00:00:00Z' }));
    await api.ok('PATCH', '/api/v1/dags/paused_dag', { isPaused: true });
    await api.tick(new Date('2024-01-03T00:00:01Z'));
    expect(await runs('paused_dag')).toEqual([]);
    await api.ok('PATCH', '/api/v1/dags/paused_dag', { isPaused: false });
    await api.tick(new Date('2024-01-03T00:00:01Z'));
    expect(await runs('paused_dag')).toHaveLength(2);
  });

  it('stops at endDate', async () => {
    await api.registerDag(
      dag('bounded', [{ taskId: 'a' }], { schedule: '@daily', startDate: '2024-01-01T00:00:00Z', endDate: '2024-01-03T00:00:00Z' }),
    );
    await api.tick(new Date('2024-02-01T00:00:00Z'));
    expect((await runs('bounded')).map((x) => x.logicalDate)).toEqual(['2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z']);
    expect((await api.ok('GET', '/api/v1/dags/bounded')).nextDagrunCreateAfter).toBeNull();
  });
});

describe('manual runs', () => {
  it('triggers with conf and a run id; the same run id again returns the same run', async () => {
    await api.registerDag(dag('manual', [{ taskId: 'a' }]));
    const first = await api.call('POST', '/api/v1/dags/manual/dagRuns', { runId: 'my-run', conf: { x: 1 }, logicalDate: '2024-05-01T00:00:00Z' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ runId: 'my-run', runType: 'manual', conf: { x: 1 }, logicalDate: '2024-05-01T00:00:00.000Z', state: 'running' });
    const again = await api.call('POST', '/api/v1/dags/manual/dagRuns', { runId: 'my-run', conf: { x: 1 }, logicalDate: '2024-05-01T00:00:00Z' });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const clash = await api.call('POST', '/api/v1/dags/manual/dagRuns', { runId: 'other', logicalDate: '2024-05-01T00:00:00Z' });
    expect(clash.status).toBe(409);
    expect(clash.body.message).toMatch(/my-run/);
    const { rows } = await ctx.db.query(`SELECT count(*)::int AS n FROM dag_runs WHERE dag_id = 'manual'`);
    expect(rows[0].n).toBe(1);
  });

  it('rejects bad trigger input naming the field, and unknown DAGs with 404', async () => {
    const bad = await api.call('POST', '/api/v1/dags/manual/dagRuns', { logicalDate: 'yesterday', conf: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: any) => d.path).sort()).toEqual(['conf', 'logicalDate']);
    expect((await api.call('POST', '/api/v1/dags/ghost/dagRuns', {})).status).toBe(404);
  });

  it('filters and paginates the run list', async () => {
    for (const d of ['2024-06-01', '2024-06-02', '2024-06-03']) await api.trigger('manual', { logicalDate: `${d}T00:00:00Z` });
    const page = await api.ok('GET', '/api/v1/dags/manual/dagRuns?logicalDateGte=2024-06-01T00:00:00Z&limit=2');
    expect(page.totalEntries).toBe(3);
    expect(page.items.map((r: any) => r.logicalDate.slice(0, 10))).toEqual(['2024-06-03', '2024-06-02']);
    expect((await api.ok('GET', '/api/v1/dags/manual/dagRuns?state=success,failed')).totalEntries).toBe(0);
    expect((await api.call('GET', '/api/v1/dags/manual/dagRuns?state=weird')).status).toBe(400);
  });
});

describe('DAG versions', () => {
  it('a run keeps the version it was created with', async () => {
    await api.registerDag(dag('versioned', [{ taskId: 'a' }]));
    const old = await api.trigger('versioned', { logicalDate: '2024-01-01T00:00:00Z' });
    await api.registerDag(dag('versioned', [{ taskId: 'a' }, { taskId: 'b', dependsOn: ['a'] }]));
    const fresh = await api.trigger('versioned', { logicalDate: '2024-01-02T00:00:00Z' });
    expect(Object.keys(await api.taskStates('versioned', old.runId))).toEqual(['a']);
    expect(Object.keys(await api.taskStates('versioned', fresh.runId)).sort()).toEqual(['a', 'b']);
    await api.drain('versioned');
    expect((await api.run('versioned', old.runId)).state).toBe('success');
    expect(await api.taskStates('versioned', fresh.runId)).toEqual({ a: 'success', b: 'success' });
  });
});

describe('several schedulers on one database', () => {
  it('create each due run exactly once and never exceed maxActiveRuns', async () => {
    const others = await Promise.all([1, 2].map(() => startTestApp({}, { databaseUrl: ctx.t.db.url })));
    try {
      const schedulers = [api, ...others.map((o) => new Api(o.app))];
      for (let i = 0; i < 5; i++) {
        await api.registerDag(dag(`race_${i}`, [{ taskId: 'a' }], { schedule: '@hourly', startDate: '2024-01-01T00:00:00Z', maxActiveRuns: 3 }));
      }
      const now = new Date('2024-01-09T08:00:00Z'); // 200 hourly intervals per DAG
      for (let round = 0; round < 3; round++) {
        await Promise.all(schedulers.map((s) => s.tick(now)));
      }
      const { rows } = await ctx.db.query(
        `SELECT dag_id, count(*)::int AS runs, count(DISTINCT logical_date)::int AS dates,
           count(*) FILTER (WHERE state = 'running')::int AS running
         FROM dag_runs WHERE dag_id LIKE 'race\\_%' GROUP BY dag_id ORDER BY dag_id`,
      );
      expect(rows).toEqual([0, 1, 2, 3, 4].map((i) => ({ dag_id: `race_${i}`, runs: 200, dates: 200, running: 3 })));
    } finally {
      await Promise.all(others.map((o) => o.close()));
    }
  });
});
