import { describe, expect, it } from '@jest/globals';
import { Api, dag } from '../support/api.js';
import { useTestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';

// A manual trigger: the DAG lock, the run's insert and its audit row in one statement once this process knows the
// DAG's version, its start in another (RunsService.trigger, RunEngine.startCreatedRun); the general way otherwise.
// Each case triggers a DAG more than once, so both ways run.

const ctx = useTestApp();
const api = new Api(() => ctx.t.app);

const day = (d: number) => new Date(Date.UTC(2024, 0, d)).toISOString();
const runsOf = async (dagId: string) => (await api.ok('GET', `/api/v1/dags/${dagId}/dagRuns?limit=100`)).items as any[];
const statesOf = async (dagId: string) => Object.fromEntries((await runsOf(dagId)).map((r) => [r.runId, r.state]));

describe('manual triggers', () => {
  it('each trigger creates one started run with its first tasks queued and one audit entry', async () => {
    await api.registerDag(dag('trg_each', [{ taskId: 'a' }, { taskId: 'b', dependsOn: ['a'] }, { taskId: 'c' }], { maxActiveRuns: 10 }));
    for (const d of [1, 2, 3]) {
      const run = await api.trigger('trg_each', { runId: `r${d}`, logicalDate: day(d), conf: { d } });
      expect(run).toMatchObject({ runId: `r${d}`, state: 'running', conf: { d } });
      expect(run.startDate).not.toBeNull();
      expect(await api.taskStates('trg_each', `r${d}`)).toEqual({ a: 'queued', b: 'none', c: 'queued' });
    }
    const audit = (await api.ok('GET', '/api/v1/auditLog?action=trigger_dag_run&target=trg_each/')).items;
    expect(audit.map((e: any) => e.target).sort()).toEqual(['trg_each/r1', 'trg_each/r2', 'trg_each/r3']);
    for (const e of audit) expect(e.details).toEqual({ logicalDate: expect.any(String), requestId: expect.any(String) });
    // The same runId again answers with the run, writes nothing; another runId at a taken date is a conflict.
    const again = await api.call('POST', '/api/v1/dags/trg_each/dagRuns', { runId: 'r2', logicalDate: day(2) });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ runId: 'r2', state: 'running' });
    const clash = await api.call('POST', '/api/v1/dags/trg_each/dagRuns', { runId: 'other', logicalDate: day(2) });
    expect(clash.status).toBe(409);
    expect((await api.ok('GET', '/api/v1/auditLog?action=trigger_dag_run&target=trg_each/')).items).toHaveLength(3);
    expect(await runsOf('trg_each')).toHaveLength(3);
  });

  it('a DAG registered again between two triggers: the second run is of the new version', async () => {
    await api.registerDag(dag('trg_version', [{ taskId: 'a' }]));
    await api.trigger('trg_version', { runId: 'v1', logicalDate: day(1) });
    await api.registerDag(dag('trg_version', [{ taskId: 'a' }, { taskId: 'b' }]));
    await api.trigger('trg_version', { runId: 'v2', logicalDate: day(2) });
    expect(await api.taskStates('trg_version', 'v1')).toEqual({ a: 'queued' });
    expect(await api.taskStates('trg_version', 'v2')).toEqual({ a: 'queued', b: 'queued' });
  });

  it.each([
    ['known to this process', true],
    ['new to this process', false],
  ])('a trigger waiting for the DAG lock while a registration changes the DAG (%s) creates a run of the new version', async (_, warm) => {
    const dagId = `trg_race_${warm ? 'warm' : 'cold'}`;
    await api.registerDag(dag(dagId, [{ taskId: 'a' }]));
    if (warm) await api.trigger(dagId, { runId: 'before', logicalDate: day(1) });
    {
      const sql = ctx.db;
      // A registration of a changed document (task a again as b), held open: the DAG row locked, a new version,
      // latest_version moved.
      await sql.query('BEGIN');
      await sql.query('SELECT 1 FROM dags WHERE dag_id = $1 FOR UPDATE', [dagId]);
      await sql.query(
        `INSERT INTO dag_versions (dag_id, version, content_hash, document)
         SELECT dag_id, version + 1, 'changed', jsonb_set(document::jsonb, '{tasks}', document::jsonb->'tasks' || jsonb_set(document::jsonb->'tasks'->0, '{taskId}', '"b"'))
         FROM dag_versions WHERE dag_id = $1 ORDER BY version DESC LIMIT 1`,
        [dagId],
      );
      await sql.query('UPDATE dags SET latest_version = latest_version + 1 WHERE dag_id = $1', [dagId]);
      const trigger = api.call('POST', `/api/v1/dags/${dagId}/dagRuns`, { runId: 'during', logicalDate: day(2) });
      await waitFor(async () => {
        const { rows } = await sql.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        return rows.length > 0 || null;
      }, 'the trigger waiting for the DAG lock');
      await sql.query('COMMIT');
      const res = await trigger;
      expect(res).toMatchObject({ status: 201 });
      expect(res.body).toMatchObject({ runId: 'during', state: 'running' });
    }
    expect(await api.taskStates(dagId, 'during')).toEqual({ a: 'queued', b: 'queued' });
  });

  it('runs queued before the trigger start first, oldest first, up to maxActiveRuns', async () => {
    await api.registerDag(dag('trg_ahead', [{ taskId: 'a' }], { maxActiveRuns: 2 }));
    await api.trigger('trg_ahead', { runId: 'warm', logicalDate: day(1) });
    await api.drain('trg_ahead');
    await api.ok('PATCH', '/api/v1/dags/trg_ahead', { isPaused: true });
    const paused = await api.trigger('trg_ahead', { runId: 'old1', logicalDate: day(2) });
    expect(paused.state).toBe('queued');
    await api.trigger('trg_ahead', { runId: 'old2', logicalDate: day(3) });
    // Unpaused behind the API's back: nothing has started the queued runs when the next trigger comes.
    await ctx.db.query(`UPDATE dags SET is_paused = false WHERE dag_id = 'trg_ahead'`);
    const late = await api.trigger('trg_ahead', { runId: 'new', logicalDate: day(4) });
    expect(late.state).toBe('queued');
    expect(await statesOf('trg_ahead')).toEqual({ warm: 'success', old1: 'running', old2: 'running', new: 'queued' });
    expect(await api.taskStates('trg_ahead', 'old1')).toEqual({ a: 'queued' });
    expect(await api.taskStates('trg_ahead', 'new')).toEqual({ a: 'none' });
  });

  it('a trigger of a paused DAG queues its run; of a deleted one answers 404', async () => {
    await api.registerDag(dag('trg_gone', [{ taskId: 'a' }]));
    await api.trigger('trg_gone', { runId: 'one', logicalDate: day(1) });
    await api.ok('PATCH', '/api/v1/dags/trg_gone', { isPaused: true });
    expect((await api.trigger('trg_gone', { runId: 'two', logicalDate: day(2) })).state).toBe('queued');
    expect((await api.call('DELETE', '/api/v1/dags/trg_gone')).status).toBeLessThan(300);
    const gone = await api.call('POST', '/api/v1/dags/trg_gone/dagRuns', { runId: 'three', logicalDate: day(3) });
    expect(gone.status).toBe(404);
    expect(gone.body.message).toContain('trg_gone');
  });

  it('concurrent triggers never start more runs than maxActiveRuns', async () => {
    await api.registerDag(dag('trg_many', [{ taskId: 'a' }], { maxActiveRuns: 3 }));
    await api.trigger('trg_many', { runId: 'first', logicalDate: day(1) });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => api.call('POST', '/api/v1/dags/trg_many/dagRuns', { runId: `c${i}`, logicalDate: day(2 + i) })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(201));
    const states = Object.values(await statesOf('trg_many'));
    expect(states.filter((s) => s === 'running')).toHaveLength(3);
    expect(states.filter((s) => s === 'queued')).toHaveLength(10);
    // Each running run has its task queued; no queued run has one.
    for (const r of await runsOf('trg_many')) {
      expect((await api.taskStates('trg_many', r.runId)).a).toBe(r.state === 'running' ? 'queued' : 'none');
    }
  });

  it('runs whose start is decided per run (a built-in branch, a mapped first task) start the general way', async () => {
    await api.registerDag(
      dag('trg_decide', [
        { taskId: 'pick', type: 'branch', choose: '{% if dag_run.conf.left %}left{% else %}right{% endif %}' },
        { taskId: 'left', dependsOn: ['pick'] },
        { taskId: 'right', dependsOn: ['pick'] },
        { taskId: 'fan', expand: { x: [1, 2] } },
      ], { maxActiveRuns: 5 }),
    );
    await api.trigger('trg_decide', { runId: 'l', logicalDate: day(1), conf: { left: true } });
    await api.trigger('trg_decide', { runId: 'r', logicalDate: day(2) });
    const tis = async (runId: string) =>
      (await api.ok('GET', `/api/v1/dags/trg_decide/dagRuns/${runId}/taskInstances`)).items.map((t: any) => `${t.taskId}${t.mapIndex >= 0 ? `[${t.mapIndex}]` : ''}:${t.state}`).sort();
    expect(await tis('l')).toEqual(['fan[0]:queued', 'fan[1]:queued', 'left:queued', 'pick:success', 'right:skipped']);
    expect(await tis('r')).toEqual(['fan[0]:queued', 'fan[1]:queued', 'left:skipped', 'pick:success', 'right:queued']);
  });
});
