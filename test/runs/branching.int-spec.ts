import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';

// Branching and short-circuit (docs/dynamic-pipelines.md) through the public API.

let t: TestApp;
let api: Api;

beforeAll(async () => {
  t = await startTestApp();
  api = new Api(t.app);
});
afterAll(async () => {
  await t.close();
});

const leaseOne = async (queue: string, taskId: string) => {
  const leases = await api.lease('w', { queues: [queue] });
  expect(leases.map((l) => l.taskId)).toEqual([taskId]);
  return leases[0];
};

const branchDag = (dagId: string, branch: Record<string, unknown>) =>
  dag(dagId, [
    { taskId: 'start' },
    { taskId: 'pick', dependsOn: ['start'], ...branch },
    { taskId: 'full_load', dependsOn: ['pick'] },
    { taskId: 'incremental', dependsOn: ['pick'] },
    { taskId: 'join', dependsOn: ['full_load', 'incremental'], triggerRule: 'none_failed_min_one_success' },
  ]);

describe('branching', () => {
  it('follows the ids of a worker branch completion; the others are skipped and the join runs', async () => {
    await api.registerDag(branchDag('br_worker', { type: 'decide', branch: true }));
    const run = await api.trigger('br_worker');
    await api.complete((await leaseOne('br_worker', 'start')).leaseId, { status: 'success' });
    const pick = await leaseOne('br_worker', 'pick');
    expect((await api.complete(pick.leaseId, { status: 'success', followTaskIds: ['full_load'] })).status).toBe(200);
    expect(await api.taskStates('br_worker', run.runId)).toMatchObject({ pick: 'success', full_load: 'queued', incremental: 'skipped', join: 'none' });
    await api.complete((await leaseOne('br_worker', 'full_load')).leaseId, { status: 'success' });
    await api.complete((await leaseOne('br_worker', 'join')).leaseId, { status: 'success' });
    expect((await api.run('br_worker', run.runId)).state).toBe('success');
  });

  it('follows the return_value XCom when the completion names no ids', async () => {
    await api.registerDag(branchDag('br_xcom', { type: 'decide', branch: true }));
    const run = await api.trigger('br_xcom');
    await api.complete((await leaseOne('br_xcom', 'start')).leaseId, { status: 'success' });
    await api.complete((await leaseOne('br_xcom', 'pick')).leaseId, { status: 'success', xcom: { return_value: 'incremental' } });
    expect(await api.taskStates('br_xcom', run.runId)).toMatchObject({ full_load: 'skipped', incremental: 'queued' });
  });

  it('fails a branch that chooses a task that is not a direct downstream task', async () => {
    await api.registerDag(branchDag('br_bad', { type: 'decide', branch: true }));
    const run = await api.trigger('br_bad');
    await api.complete((await leaseOne('br_bad', 'start')).leaseId, { status: 'success' });
    const res = await api.complete((await leaseOne('br_bad', 'pick')).leaseId, { status: 'success', followTaskIds: ['join'] });
    expect(res.body.taskState).toBe('failed');
    const pick = await api.ok('GET', `/api/v1/dags/br_bad/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/pick`);
    expect(pick.tries[0].error).toContain("chose 'join', which is not a direct downstream task");
    expect(await api.taskStates('br_bad', run.runId)).toMatchObject({ full_load: 'upstream_failed', incremental: 'upstream_failed', join: 'upstream_failed' });
  });

  it('decides a built-in branch by its template, without a worker', async () => {
    await api.registerDag(
      branchDag('br_tpl', { type: 'branch', choose: '{% if dag_run.conf.full %}full_load{% else %}incremental{% endif %}' }),
    );
    const full = await api.trigger('br_tpl', { runId: 'full', conf: { full: true } });
    const inc = await api.trigger('br_tpl', { runId: 'inc', logicalDate: '2024-01-01T00:00:00Z' });
    await api.drain('br_tpl');
    expect(await api.taskStates('br_tpl', full.runId)).toEqual({ start: 'success', pick: 'success', full_load: 'success', incremental: 'skipped', join: 'success' });
    expect(await api.taskStates('br_tpl', inc.runId)).toEqual({ start: 'success', pick: 'success', full_load: 'skipped', incremental: 'success', join: 'success' });
    expect((await api.run('br_tpl', full.runId)).state).toBe('success');
  });

  it("a built-in branch's choose sees the XCom a worker's task template sees (a mapped upstream as its list)", async () => {
    const pulled = "{{ xcom.m.return_value | join: '_' }}{{ xcom.src.suffix }}";
    await api.registerDag(
      dag('br_ctx', [
        { taskId: 'src' },
        { taskId: 'm', dependsOn: ['src'], expand: { n: [1, 2, 3] } },
        { taskId: 'probe', type: 'probe', dependsOn: ['m'], xcomPull: ['m', 'src'], args: { chose: pulled, mapIndex: '{{ map_index }}' } },
        { taskId: 'pick', type: 'branch', dependsOn: ['m'], xcomPull: ['m', 'src'], choose: pulled },
        { taskId: 'a_b_c_x', dependsOn: ['pick'] },
        { taskId: 'other', dependsOn: ['pick'] },
      ]),
    );
    const run = await api.trigger('br_ctx');
    await api.complete((await leaseOne('br_ctx', 'src')).leaseId, { status: 'success', xcom: { suffix: '_x' } });
    const ms = await api.lease('w', { queues: ['br_ctx'], capacity: 3 });
    for (const l of ms) await api.complete(l.leaseId, { status: 'success', xcom: { return_value: ['a', 'b', 'c'][l.mapIndex] } });
    // The branch decided when m finished, in that transaction: its choice is what probe's template renders.
    expect(await api.taskStates('br_ctx', run.runId)).toMatchObject({ pick: 'success', a_b_c_x: 'queued', other: 'skipped' });
    const next = await api.lease('w', { queues: ['br_ctx'], capacity: 2 });
    const probe = next.find((l) => l.taskId === 'probe');
    expect(probe.task.args).toEqual({ chose: 'a_b_c_x', mapIndex: '-1' });
    expect(probe.upstreamXcom).toEqual({ m: { return_value: ['a', 'b', 'c'] }, src: { suffix: '_x' } });
  });
});

describe('short-circuit', () => {
  const scDag = (dagId: string, extra: Record<string, unknown> = {}) =>
    dag(dagId, [
      { taskId: 'check', type: 'check', shortCircuit: true, ...extra },
      { taskId: 'a', dependsOn: ['check'] },
      { taskId: 'b', dependsOn: ['a'] },
      { taskId: 'always', dependsOn: ['a'], triggerRule: 'all_done' },
    ]);

  it('a falsy result skips everything downstream (ignoring trigger rules by default)', async () => {
    await api.registerDag(scDag('sc_all'));
    const run = await api.trigger('sc_all');
    await api.complete((await leaseOne('sc_all', 'check')).leaseId, { status: 'success', xcom: { return_value: false } });
    expect(await api.taskStates('sc_all', run.runId)).toEqual({ check: 'success', a: 'skipped', b: 'skipped', always: 'skipped' });
    expect((await api.run('sc_all', run.runId)).state).toBe('success');
  });

  it('with ignoreDownstreamTriggerRules false, only direct downstream tasks are skipped; a truthy result runs all', async () => {
    await api.registerDag(scDag('sc_direct', { ignoreDownstreamTriggerRules: false }));
    const skipped = await api.trigger('sc_direct');
    await api.complete((await leaseOne('sc_direct', 'check')).leaseId, { status: 'success' });
    expect(await api.taskStates('sc_direct', skipped.runId)).toMatchObject({ a: 'skipped', b: 'skipped', always: 'queued' });
    await api.drain('sc_direct');
    const truthy = await api.trigger('sc_direct', { logicalDate: '2024-01-01T00:00:00Z' });
    await api.complete((await leaseOne('sc_direct', 'check')).leaseId, { status: 'success', xcom: { return_value: 'yes' } });
    expect((await api.taskStates('sc_direct', truthy.runId)).a).toBe('queued');
  });
});
