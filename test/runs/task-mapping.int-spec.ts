import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';

// Dynamic task mapping (docs/dynamic-pipelines.md) through the public API: expansion over upstream XCom lists and
// literals, map of a map, empty expansions, limits, and per-instance clear and mark.

let t: TestApp;
let api: Api;
let db: pg.Client;

beforeAll(async () => {
  t = await startTestApp({ WEFT_MAX_MAP_LENGTH: '60' });
  api = new Api(t.app);
  db = new pg.Client({ connectionString: t.db.url });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await t.close();
});

const base = (dagId: string, runId: string) => `/api/v1/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}`;
const instances = async (dagId: string, runId: string, taskId: string) =>
  (await api.ok('GET', `${base(dagId, runId)}/taskInstances`)).items
    .filter((x: any) => x.taskId === taskId)
    .sort((a: any, b: any) => a.mapIndex - b.mapIndex);

describe('task mapping', () => {
  it('fans out over an upstream XCom list: one instance per element, downstream pulls the results as one list', async () => {
    const files = Array.from({ length: 50 }, (_, i) => `f${i}.csv`);
    await api.registerDag(
      dag('map_files', [
        { taskId: 'list_files' },
        { taskId: 'load', type: 'load', dependsOn: ['list_files'], args: { file: '{{ expand.file }}', at: '{{ map_index }}' }, expand: { file: { xcomPull: { taskId: 'list_files' } } } },
        { taskId: 'report', type: 'report', dependsOn: ['load'], xcomPull: ['load'] },
      ], { maxActiveTasks: 100 }),
    );
    const run = await api.trigger('map_files');
    const [list] = await api.lease('w', { queues: ['map_files'] });
    expect(list.mapIndex).toBe(-1);
    expect(list.expand).toBeUndefined();
    await api.complete(list.leaseId, { status: 'success', xcom: { return_value: files } });

    const loads = await instances('map_files', run.runId, 'load');
    expect(loads.map((x: any) => x.mapIndex)).toEqual(files.map((_, i) => i));
    expect(loads.every((x: any) => x.state === 'queued')).toBe(true);

    const leased = await api.lease('w', { queues: ['map_files'], capacity: 100 });
    expect(leased).toHaveLength(50);
    for (const l of leased) {
      expect(l.taskId).toBe('load');
      expect(l.expand).toEqual({ file: files[l.mapIndex] });
      expect(l.task.args).toEqual({ file: files[l.mapIndex], at: String(l.mapIndex) });
    }
    // Completed in reverse order: the downstream still sees the values in map index order.
    for (const l of [...leased].reverse()) {
      expect((await api.lease('w', { queues: ['map_files'] })).length).toBe(0);
      await api.complete(l.leaseId, { status: 'success', xcom: { return_value: `loaded ${l.expand.file}` } });
    }
    const [report] = await api.lease('w', { queues: ['map_files'] });
    expect(report.taskId).toBe('report');
    expect(report.upstreamXcom.load.return_value).toEqual(files.map((f) => `loaded ${f}`));
    await api.complete(report.leaseId, { status: 'success' });
    expect((await api.run('map_files', run.runId)).state).toBe('success');

    const one = await api.ok('GET', `${base('map_files', run.runId)}/taskInstances/load/7`);
    expect(one).toMatchObject({ taskId: 'load', mapIndex: 7, state: 'success', tryNumber: 1 });
    const xcom = await api.ok('GET', `${base('map_files', run.runId)}/taskInstances/load/7/xcomEntries/return_value`);
    expect(xcom.value).toBe('loaded f7.csv');
    const plain = await api.call('GET', `${base('map_files', run.runId)}/taskInstances/load`);
    expect(plain.status).toBe(404);
    expect(plain.body.message).toContain('mapped (50 instances)');
  });

  it('maps over a mapped task (map of a map), literal lists and their cross product', async () => {
    await api.registerDag(
      dag('map_map', [
        { taskId: 'regions', expand: { region: ['eu', 'us'], tier: ['a', 'b', 'c'] } },
        { taskId: 'check', dependsOn: ['regions'], expand: { found: { xcomPull: { taskId: 'regions' } } } },
      ]),
    );
    const run = await api.trigger('map_map');
    const first = await api.lease('w', { queues: ['map_map'] });
    expect(first.map((l) => [l.mapIndex, l.expand]).sort((a, b) => a[0] - b[0])).toEqual([
      [0, { region: 'eu', tier: 'a' }], [1, { region: 'eu', tier: 'b' }], [2, { region: 'eu', tier: 'c' }],
      [3, { region: 'us', tier: 'a' }], [4, { region: 'us', tier: 'b' }], [5, { region: 'us', tier: 'c' }],
    ]);
    for (const l of first) await api.complete(l.leaseId, { status: 'success', xcom: { return_value: [`${l.expand.region}-${l.expand.tier}`] } });
    const second = await api.lease('w', { queues: ['map_map'] });
    expect(second.map((l) => [l.mapIndex, l.expand.found]).sort((a, b) => a[0] - b[0])).toEqual(
      ['eu-a', 'eu-b', 'eu-c', 'us-a', 'us-b', 'us-c'].map((v, i) => [i, [v]]),
    );
    for (const l of second) await api.complete(l.leaseId, { status: 'success' });
    expect((await api.run('map_map', run.runId)).state).toBe('success');
  });

  it('skips a task whose list is empty (downstream follows trigger rules); fails one over a non-list or too long a list', async () => {
    await api.registerDag(
      dag('map_edge', [
        { taskId: 'src' },
        { taskId: 'empty', dependsOn: ['src'], expand: { x: { xcomPull: { taskId: 'src', key: 'none' } } } },
        { taskId: 'after_empty', dependsOn: ['empty'] },
        { taskId: 'join', dependsOn: ['empty'], triggerRule: 'all_done' },
        { taskId: 'text', dependsOn: ['src'], expand: { x: { xcomPull: { taskId: 'src', key: 'text' } } } },
        { taskId: 'long', dependsOn: ['src'], expand: { x: { xcomPull: { taskId: 'src', key: 'long' } } } },
      ]),
    );
    const run = await api.trigger('map_edge');
    const [src] = await api.lease('w', { queues: ['map_edge'] });
    await api.complete(src.leaseId, { status: 'success', xcom: { none: [], text: 'a,b', long: Array.from({ length: 61 }, (_, i) => i) } });
    const states = await api.taskStates('map_edge', run.runId);
    expect(states).toMatchObject({ empty: 'skipped', after_empty: 'skipped', join: 'queued', text: 'failed', long: 'failed' });
    const text = await api.ok('GET', `${base('map_edge', run.runId)}/taskInstances/text`);
    expect(text.mapIndex).toBe(-1);
    expect(text.lastError).toContain('needs a list');
    const long = await api.ok('GET', `${base('map_edge', run.runId)}/taskInstances/long`);
    expect(long.lastError).toContain('61 instances');
    expect(long.lastError).toContain('WEFT_MAX_MAP_LENGTH');
    await api.drain('map_edge');
    expect((await api.run('map_edge', run.runId)).state).toBe('failed');
  });

  it('clears and marks one mapped instance; downstream waits for every instance', async () => {
    await api.registerDag(
      dag('map_ctl', [
        { taskId: 'm', expand: { n: [1, 2, 3] } },
        { taskId: 'after', dependsOn: ['m'] },
      ]),
    );
    const run = await api.trigger('map_ctl');
    const leased = await api.lease('w', { queues: ['map_ctl'] });
    expect(leased).toHaveLength(3);
    const byIndex = new Map(leased.map((l) => [l.mapIndex, l]));
    await api.complete(byIndex.get(0)!.leaseId, { status: 'success' });
    // Instances 1 and 2 are still running: downstream waits for every instance.
    expect((await api.taskStates('map_ctl', run.runId)).after).toBe('none');
    await api.complete(byIndex.get(1)!.leaseId, { status: 'failed', retryable: false });
    expect((await api.taskStates('map_ctl', run.runId)).after).toBe('upstream_failed');
    const marked = await api.ok('PATCH', `${base('map_ctl', run.runId)}/taskInstances/m/2`, { newState: 'success' });
    expect(marked.taskInstances).toEqual([expect.objectContaining({ taskId: 'm', mapIndex: 2, state: 'success', previousState: 'running' })]);
    expect((await instances('map_ctl', run.runId, 'm')).map((x: any) => x.state)).toEqual(['success', 'failed', 'success']);
    expect((await api.taskStates('map_ctl', run.runId)).after).toBe('upstream_failed');
    expect((await api.run('map_ctl', run.runId)).state).toBe('failed');

    const cleared = await api.ok('POST', '/api/v1/dags/map_ctl/clearTaskInstances', { taskIds: ['m'], mapIndexes: [1], includeDownstream: true, dryRun: false });
    expect(cleared.taskInstances.map((x: any) => `${x.taskId}:${x.mapIndex}`).sort()).toEqual(['after:-1', 'm:1']);
    const again = await api.lease('w', { queues: ['map_ctl'] });
    expect(again.map((l) => [l.taskId, l.mapIndex, l.tryNumber, l.expand])).toEqual([['m', 1, 2, { n: 2 }]]);
    await api.complete(again[0].leaseId, { status: 'success' });
    await api.drain('map_ctl');
    expect((await api.run('map_ctl', run.runId)).state).toBe('success');
    const one = await api.ok('GET', `${base('map_ctl', run.runId)}/taskInstances/m/1`);
    expect(one.tries.map((x: any) => x.state)).toEqual(['failed', 'success']);
  });

  it('a mapped task that cannot expand raises the task-failed alert and state event of any failed task', async () => {
    await api.registerDag(
      dag('map_alert', [
        { taskId: 'src' },
        { taskId: 'text', dependsOn: ['src'], expand: { x: { xcomPull: { taskId: 'src', key: 'text' } } } },
        { taskId: 'long', dependsOn: ['src'], expand: { x: { xcomPull: { taskId: 'src', key: 'long' } } } },
        { taskId: 'fine', dependsOn: ['src'], expand: { x: { xcomPull: { taskId: 'src', key: 'fine' } } } },
      ], { onFailureCallbacks: [{ type: 'webhook', url: 'http://127.0.0.1:9/alerts' }] }),
    );
    const run = await api.trigger('map_alert');
    const [src] = await api.lease('w', { queues: ['map_alert'] });
    await api.complete(src.leaseId, { status: 'success', xcom: { text: 'a,b', long: Array.from({ length: 61 }, (_, i) => i), fine: [1, 2] } });
    const deliveries = await api.ok('GET', '/api/v1/alertDeliveries?dagId=map_alert&kind=task_failed');
    const summaries = deliveries.items.map((d: any) => d.message.summary).sort();
    expect(summaries).toEqual([
      expect.stringMatching(/^long failed without running: cannot expand 'long'.*61 instances/),
      expect.stringMatching(/^text failed without running: cannot expand 'text'.*needs a list/),
    ]);
    for (const d of deliveries.items) expect(d.message.details).toMatchObject({ mapIndex: -1, tryNumber: 0 });
    // The events outbox has the same state event as for a task that failed on its try (subscriptions, webhooks).
    const { rows } = await db.query(
      `SELECT payload FROM events WHERE kind = 'task_instance_state' AND run_id = $1 AND payload->>'state' = 'failed' ORDER BY id`,
      [run.runId],
    );
    expect(rows.map((r) => [r.payload.taskId, r.payload.mapIndex, r.payload.previousState]).sort()).toEqual([['long', -1, 'none'], ['text', -1, 'none']]);

    // A failed mapped instance alerts with its map index.
    const leased = await api.lease('w', { queues: ['map_alert'], capacity: 2 });
    for (const l of leased) await api.complete(l.leaseId, l.mapIndex === 1 ? { status: 'failed', error: 'bad row', retryable: false } : { status: 'success' });
    const after = await api.ok('GET', '/api/v1/alertDeliveries?dagId=map_alert&kind=task_failed');
    const one = after.items.find((d: any) => d.message.summary.startsWith('fine'));
    expect(one.message).toMatchObject({ summary: 'fine[1] failed on try 1 of 1: bad row', details: { mapIndex: 1, tryNumber: 1 } });
    expect((await api.run('map_alert', run.runId)).state).toBe('failed');
  });

  it('re-expanding a cleared mapped task over a shorter list leaves the surplus instances removed, not blocking downstream', async () => {
    await api.registerDag(
      dag('map_shrink', [
        { taskId: 'src' },
        { taskId: 'm', dependsOn: ['src'], expand: { x: { xcomPull: { taskId: 'src' } } } },
        { taskId: 'after', dependsOn: ['m'], xcomPull: ['m'] },
      ]),
    );
    const run = await api.trigger('map_shrink');
    const answer = (values: unknown[]) => (l: any) =>
      l.taskId === 'src' ? { status: 'success', xcom: { return_value: values } } : { status: 'success', xcom: { return_value: l.expand ? `did ${l.expand.x}` : 'after' } };
    await api.drain('map_shrink', answer(['a', 'b', 'c']));
    expect((await instances('map_shrink', run.runId, 'm')).map((x: any) => [x.mapIndex, x.state])).toEqual([[0, 'success'], [1, 'success'], [2, 'success']]);
    expect((await api.run('map_shrink', run.runId)).state).toBe('success');

    // The upstream is cleared (with its downstream) and now yields one element: instances 1 and 2 are removed.
    await api.ok('POST', '/api/v1/dags/map_shrink/clearTaskInstances', { taskIds: ['src'], includeDownstream: true, dryRun: false });
    const [src] = await api.lease('w', { queues: ['map_shrink'] });
    expect(src.taskId).toBe('src');
    await api.complete(src.leaseId, answer(['z'])(src));
    expect((await instances('map_shrink', run.runId, 'm')).map((x: any) => [x.mapIndex, x.state])).toEqual([[0, 'queued'], [1, 'removed'], [2, 'removed']]);
    const [m0] = await api.lease('w', { queues: ['map_shrink'] });
    expect([m0.taskId, m0.mapIndex, m0.expand]).toEqual(['m', 0, { x: 'z' }]);
    await api.complete(m0.leaseId, answer([])(m0));
    // Downstream waits for nothing removed, and pulls only the instances that exist now.
    const [after] = await api.lease('w', { queues: ['map_shrink'] });
    expect(after.taskId).toBe('after');
    expect(after.upstreamXcom.m.return_value).toEqual(['did z']);
    await api.complete(after.leaseId, { status: 'success' });
    expect((await api.run('map_shrink', run.runId)).state).toBe('success');

    // Clearing the mapped task itself after that expands it again over the upstream's current XCom: the removed
    // instances stay removed, and a removed instance cannot be marked.
    await api.ok('POST', '/api/v1/dags/map_shrink/clearTaskInstances', { taskIds: ['m'], includeDownstream: true, dryRun: false });
    await api.drain('map_shrink', answer([]));
    expect((await instances('map_shrink', run.runId, 'm')).map((x: any) => [x.mapIndex, x.state])).toEqual([[0, 'success'], [1, 'removed'], [2, 'removed']]);
    expect((await api.run('map_shrink', run.runId)).state).toBe('success');
    const one = await api.ok('GET', `${base('map_shrink', run.runId)}/taskInstances/m/2`);
    expect(one).toMatchObject({ mapIndex: 2, state: 'removed' });
    const mark = await api.ok('PATCH', `${base('map_shrink', run.runId)}/taskInstances/m/2`, { newState: 'failed' });
    expect(mark.taskInstances).toEqual([]);
    expect((await api.ok('GET', `${base('map_shrink', run.runId)}/taskInstances/m/2`)).state).toBe('removed');
    expect((await api.run('map_shrink', run.runId)).state).toBe('success');

    // And when the upstream yields more again, the removed instances come back with their new values.
    await api.ok('POST', '/api/v1/dags/map_shrink/clearTaskInstances', { taskIds: ['src'], includeDownstream: true, dryRun: false });
    const [src2] = await api.lease('w', { queues: ['map_shrink'] });
    await api.complete(src2.leaseId, answer(['p', 'q', 'r', 's'])(src2));
    const grown = await api.lease('w', { queues: ['map_shrink'], capacity: 10 });
    expect(grown.map((l) => [l.mapIndex, l.expand.x]).sort()).toEqual([[0, 'p'], [1, 'q'], [2, 'r'], [3, 's']]);
    for (const l of grown) await api.complete(l.leaseId, answer([])(l));
    await api.drain('map_shrink', answer([]));
    expect((await api.run('map_shrink', run.runId)).state).toBe('success');
  });

  it('refuses an expand over a task that is not a direct upstream', async () => {
    const res = await api.call(
      'POST',
      '/api/v1/dags/validate',
      dag('map_bad', [
        { taskId: 'a' },
        { taskId: 'b', dependsOn: ['a'] },
        { taskId: 'c', dependsOn: ['b'], expand: { x: { xcomPull: { taskId: 'a' } } } },
      ]),
    );
    expect(JSON.stringify(res.body)).toContain("'a' must be in dependsOn");
  });
});
