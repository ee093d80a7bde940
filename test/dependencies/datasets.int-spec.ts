import { describe, expect, it } from '@jest/globals';
import { Api, dag } from '../support/api.js';
import { useTestApp } from '../support/app.js';

const ctx = useTestApp();
const api = new Api(() => ctx.t.app);

describe('datasets', () => {
  it('runs an any-mode consumer once per update and an all-mode consumer once both are updated', async () => {
    await api.registerDag(dag('producer', [{ taskId: 'events', outlets: ['wh.events'] }, { taskId: 'users', outlets: ['wh.users'] }]));
    await api.registerDag(dag('on_any', [{ taskId: 'c' }], { schedule: { datasets: ['wh.events', 'wh.users'], mode: 'any' } }));
    await api.registerDag(dag('on_all', [{ taskId: 'c' }], { schedule: { datasets: ['wh.events', 'wh.users'], mode: 'all' } }));

    const runsOf = async (dagId: string) => (await api.ok('GET', `/api/v1/dags/${dagId}/dagRuns`)).items;

    await api.trigger('producer', { logicalDate: '2024-01-01T00:00:00Z' });
    const leases = await api.lease('p', { queues: ['producer'], capacity: 2 });
    await api.complete(leases.find((l) => l.taskId === 'events')!.leaseId, { status: 'success' });
    await api.tick();
    expect(await runsOf('on_any')).toHaveLength(1);
    expect(await runsOf('on_all')).toHaveLength(0);

    await api.complete(leases.find((l) => l.taskId === 'users')!.leaseId, { status: 'success' });
    await api.tick();
    const anyRuns = await runsOf('on_any');
    const allRuns = await runsOf('on_all');
    expect(anyRuns).toHaveLength(2);
    expect(allRuns).toHaveLength(1);
    expect(allRuns[0].runType).toBe('dataset_triggered');
    expect(allRuns[0].conf.datasetEvents.map((e: any) => [e.uri, e.sourceDagId, e.sourceTaskId])).toEqual([
      ['wh.events', 'producer', 'events'],
      ['wh.users', 'producer', 'users'],
    ]);
    await api.tick();
    expect(await runsOf('on_all')).toHaveLength(1);

    // An external system posts an update.
    const posted = await api.ok('POST', '/api/v1/datasets/events', { uri: 'wh.events', extra: { rows: 10 } });
    expect(posted).toMatchObject({ uri: 'wh.events', extra: { rows: 10 }, sourceDagId: null });
    await api.tick();
    expect(await runsOf('on_any')).toHaveLength(3);

    const datasets = await api.ok('GET', '/api/v1/datasets');
    expect(datasets.items.find((d: any) => d.uri === 'wh.events')).toMatchObject({
      producers: [{ dagId: 'producer', taskId: 'events' }],
      consumers: ['on_all', 'on_any'],
    });
    const events = await api.ok('GET', '/api/v1/datasets/events?uri=wh.events');
    expect(events.totalEntries).toBe(2);
  });

  it('rejects a bad event naming the field', async () => {
    const res = await api.call('POST', '/api/v1/datasets/events', { extra: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: any) => d.path).sort()).toEqual(['extra', 'uri']);
  });
});
