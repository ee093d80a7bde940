import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';

let t: TestApp;
let api: Api;

beforeAll(async () => {
  t = await startTestApp();
  api = new Api(t.app);
});
afterAll(async () => {
  await t.close();
});

const ti = (dagId: string, runId: string, taskId: string) =>
  api.ok('GET', `/api/v1/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}/taskInstances/${taskId}`);

describe('clear', () => {
  it('re-runs exactly the cleared set (with downstream) and nothing else', async () => {
    await api.registerDag(dag('clr', [{ taskId: 'a' }, { taskId: 'b', dependsOn: ['a'] }, { taskId: 'c', dependsOn: ['b'] }, { taskId: 'x' }]));
    const run = await api.trigger('clr');
    await api.drain('clr');
    expect((await api.run('clr', run.runId)).state).toBe('success');

    const dry = await api.ok('POST', '/api/v1/dags/clr/clearTaskInstances', { taskIds: ['b'], includeDownstream: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.taskInstances.map((x: any) => x.taskId).sort()).toEqual(['b', 'c']);
    expect(await api.taskStates('clr', run.runId)).toEqual({ a: 'success', b: 'success', c: 'success', x: 'success' });

    const done = await api.ok('POST', '/api/v1/dags/clr/clearTaskInstances', { taskIds: ['b'], includeDownstream: true, dryRun: false });
    expect(done.taskInstances.map((x: any) => x.taskId).sort()).toEqual(['b', 'c']);
    expect((await api.run('clr', run.runId)).state).toBe('running');
    expect(await api.taskStates('clr', run.runId)).toEqual({ a: 'success', b: 'queued', c: 'none', x: 'success' });

    const rerun = await api.drain('clr');
    expect(rerun.map((l) => [l.taskId, l.tryNumber])).toEqual([['b', 2], ['c', 2]]);
    expect((await api.run('clr', run.runId)).state).toBe('success');
    expect((await ti('clr', run.runId, 'a')).tries).toHaveLength(1);
    expect((await ti('clr', run.runId, 'x')).tries).toHaveLength(1);
    const audit = await api.ok('GET', '/api/v1/auditLog?action=clear');
    expect(audit.items[0]).toMatchObject({ action: 'clear', target: `clr/${run.runId}`, details: { taskIds: ['b', 'c'] } });
  });

  it('fences a running attempt: its late success is discarded and a new attempt runs', async () => {
    await api.registerDag(dag('clr_running', [{ taskId: 't' }]));
    const run = await api.trigger('clr_running');
    const [old] = await api.lease('w', { queues: ['clr_running'] });
    await api.ok('POST', '/api/v1/dags/clr_running/clearTaskInstances', { taskIds: ['t'], dryRun: false });
    // Its worker is told to stop; what it reports then is discarded, and its lease goes.
    expect((await api.ok('POST', `/api/v1/leases/${old.leaseId}/heartbeat`)).cancelRequested).toBe(true);
    const late = await api.complete(old.leaseId, { status: 'success', xcom: { return_value: 'stale' } });
    expect(late.status).toBe(409);
    expect(late.body.details).toEqual({ reason: 'lease_lost' });
    expect((await api.call('POST', `/api/v1/leases/${old.leaseId}/heartbeat`)).status).toBe(409);
    const [fresh] = await api.lease('w', { queues: ['clr_running'] });
    expect(fresh.tryNumber).toBe(2);
    await api.complete(fresh.leaseId, { status: 'success', xcom: { return_value: 'fresh' } });
    const after = await ti('clr_running', run.runId, 't');
    expect(after.tries.map((x: any) => [x.tryNumber, x.state])).toEqual([[1, 'failed'], [2, 'success']]);
    const xcom = await api.ok('GET', `/api/v1/dags/clr_running/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/t/xcomEntries/return_value`);
    expect(xcom.value).toBe('fresh');
  });

  it('clears only failed task instances in a logical-date range', async () => {
    await api.registerDag(dag('clr_range', [{ taskId: 'ok' }, { taskId: 'bad' }, { taskId: 'after', dependsOn: ['bad'] }], { maxActiveRuns: 5 }));
    for (const d of ['2024-01-01', '2024-01-02', '2024-01-03']) await api.trigger('clr_range', { logicalDate: `${d}T00:00:00Z` });
    await api.drain('clr_range', (l) => ({ status: l.taskId === 'bad' ? 'failed' : 'success' }));
    const res = await api.ok('POST', '/api/v1/dags/clr_range/clearTaskInstances', {
      onlyFailed: true,
      startDate: '2024-01-02T00:00:00Z',
      endDate: '2024-01-03T00:00:00Z',
    });
    expect(res.taskInstances.map((x: any) => `${x.runId.slice(8, 18)}:${x.taskId}:${x.state}`).sort()).toEqual([
      '2024-01-02:after:upstream_failed',
      '2024-01-02:bad:failed',
      '2024-01-03:after:upstream_failed',
      '2024-01-03:bad:failed',
    ]);
  });

  it('rejects bad clear input naming the field', async () => {
    const res = await api.call('POST', '/api/v1/dags/clr/clearTaskInstances', { states: ['broken'], taskIds: [] });
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: any) => d.path).sort()).toEqual(['states[0]', 'taskIds']);
    expect((await api.call('POST', '/api/v1/dags/nope/clearTaskInstances', {})).status).toBe(404);
  });

  it('refuses a date range that ends before it starts (REST 400, GraphQL BAD_USER_INPUT), clearing nothing', async () => {
    await api.registerDag(dag('clr_window', [{ taskId: 't' }]));
    const run = await api.trigger('clr_window', { logicalDate: '2024-01-02T00:00:00Z' });
    await api.drain('clr_window');
    const window = { startDate: '2024-03-01T00:00:00Z', endDate: '2024-01-01T00:00:00Z', dryRun: false };
    const res = await api.call('POST', '/api/v1/dags/clr_window/clearTaskInstances', window);
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ path: 'endDate', message: 'must not be before startDate (2024-03-01T00:00:00.000Z)' }]);
    const gql = await t.app.inject({
      method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' },
      payload: { query: 'mutation($i: ClearTaskInstancesInput) { clearTaskInstances(dagId: "clr_window", input: $i) { dryRun } }', variables: { i: window } },
    });
    expect(gql.json().errors[0]).toMatchObject({ message: 'endDate: must not be before startDate (2024-03-01T00:00:00.000Z)', extensions: { code: 'BAD_USER_INPUT' } });
    expect(await api.taskStates('clr_window', run.runId)).toEqual({ t: 'success' });
  });
});

describe('mark', () => {
  it('marking a failed middle task success lets its downstream run and the run succeed', async () => {
    await api.registerDag(dag('mark_mid', [{ taskId: 'a' }, { taskId: 'b', dependsOn: ['a'] }, { taskId: 'c', dependsOn: ['b'] }]));
    const run = await api.trigger('mark_mid');
    await api.drain('mark_mid', (l) => ({ status: l.taskId === 'b' ? 'failed' : 'success' }));
    expect(await api.taskStates('mark_mid', run.runId)).toEqual({ a: 'success', b: 'failed', c: 'upstream_failed' });
    expect((await api.run('mark_mid', run.runId)).state).toBe('failed');

    const dry = await api.ok('PATCH', `/api/v1/dags/mark_mid/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/b`, { newState: 'success', dryRun: true });
    expect(dry.taskInstances.map((x: any) => x.taskId)).toEqual(['b']);
    expect((await api.taskStates('mark_mid', run.runId)).b).toBe('failed');

    const res = await api.ok('PATCH', `/api/v1/dags/mark_mid/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/b`, { newState: 'success' });
    expect(res.runState).toBe('running');
    expect(await api.taskStates('mark_mid', run.runId)).toEqual({ a: 'success', b: 'success', c: 'queued' });
    await api.drain('mark_mid');
    expect((await api.run('mark_mid', run.runId)).state).toBe('success');
  });

  it('marking a running task failed fences its attempt and fails its downstream', async () => {
    await api.registerDag(dag('mark_running', [{ taskId: 'a', retries: 3 }, { taskId: 'b', dependsOn: ['a'] }]));
    const run = await api.trigger('mark_running');
    const [lease] = await api.lease('w', { queues: ['mark_running'] });
    await api.ok('PATCH', `/api/v1/dags/mark_running/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/a`, { newState: 'failed' });
    expect((await api.complete(lease.leaseId, { status: 'success' })).status).toBe(409);
    expect(await api.taskStates('mark_running', run.runId)).toEqual({ a: 'failed', b: 'upstream_failed' });
    expect((await api.run('mark_running', run.runId)).state).toBe('failed');
  });

  it('a fenced attempt announces its freed maxActiveTasks slot, so a lease request blocked on it wakes at once', async () => {
    await api.registerDag(dag('mark_slot', [{ taskId: 'a' }, { taskId: 'b' }], { maxActiveTasks: 1 }));
    const run = await api.trigger('mark_slot');
    const [lease] = await api.lease('w', { queues: ['mark_slot'] });
    const listener = new pg.Client({ connectionString: t.db.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.payload ?? ''));
    try {
      await listener.query('LISTEN weft_task_queued');
      await api.ok('PATCH', `/api/v1/dags/mark_slot/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/${lease.taskId}`, { newState: 'success' });
      await waitFor(async () => heard.includes('*') || null, 'the freed-slot notification (SLOT_FREED)');
      const [next] = await api.lease('w', { queues: ['mark_slot'] });
      expect(next.taskId).not.toBe(lease.taskId);
    } finally {
      await listener.end();
    }
  });

  it('marks a whole run', async () => {
    await api.registerDag(dag('mark_run', [{ taskId: 'a' }, { taskId: 'b', dependsOn: ['a'] }]));
    const run = await api.trigger('mark_run');
    const [lease] = await api.lease('w', { queues: ['mark_run'] });
    const failed = await api.ok('PATCH', `/api/v1/dags/mark_run/dagRuns/${encodeURIComponent(run.runId)}`, { state: 'failed' });
    expect(failed.state).toBe('failed');
    expect(await api.taskStates('mark_run', run.runId)).toEqual({ a: 'failed', b: 'skipped' });
    expect((await api.ok('POST', `/api/v1/leases/${lease.leaseId}/heartbeat`)).cancelRequested).toBe(true);
    const ok = await api.ok('PATCH', `/api/v1/dags/mark_run/dagRuns/${encodeURIComponent(run.runId)}`, { state: 'success' });
    expect(ok.state).toBe('success');
    expect((await api.call('PATCH', `/api/v1/dags/mark_run/dagRuns/${encodeURIComponent(run.runId)}`, { state: 'running' })).status).toBe(400);
  });
});
