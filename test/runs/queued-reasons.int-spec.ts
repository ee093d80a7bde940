import { describe, expect, it } from '@jest/globals';
import { Api } from '../support/api.js';
import { useTestApp } from '../support/app.js';
import { graphqlOk } from '../support/graphql.js';

/**
 * A task in a pool that does not exist (issue 19.6) is accepted, since pools are often created after the DAGs that use
 * them: the registration warns, naming the field and the pool, and the task waits in `queued` with a state reason
 * until the pool exists. A task on a queue no worker polls says that instead, and so does one whose queue's workers
 * take only other task types.
 */
describe('queued task instances say why they do not start', () => {
  const h = useTestApp();
  const doc = {
    dagId: 'qr',
    tasks: [
      { taskId: 'load', type: 'noop', pool: 'qr_warehouse' },
      { taskId: 'train', type: 'noop', queue: 'qr_gpu' },
      { taskId: 'plain', type: 'noop', queue: 'qr_cpu' },
    ],
  };
  const ti = (api: Api, taskId: string) => api.ok('GET', `/api/v1/dags/qr/dagRuns/r/taskInstances/${taskId}`);

  it('warns at registration, then names the missing pool and the unpolled queue until they are there', async () => {
    const api = new Api(h.t.app);
    const warning = { path: 'tasks[0].pool', message: "pool 'qr_warehouse' does not exist: task load stays queued until it is created (POST /api/v1/pools)" };
    expect((await api.ok('POST', '/api/v1/dags/validate', doc)).warnings).toEqual([warning]);
    const registered = await api.call('POST', '/api/v1/dags', doc);
    expect(registered.status).toBe(201);
    expect(registered.body.warnings).toEqual([warning]);
    const gql = await graphqlOk(h.t.app, `mutation($doc: JSON!) { upsertDag(document: $doc) { changed warnings { path message } } }`, { doc });
    expect(gql.upsertDag).toEqual({ changed: false, warnings: [warning] });

    await api.trigger('qr', { runId: 'r' });
    expect(await api.taskStates('qr', 'r')).toEqual({ load: 'queued', train: 'queued', plain: 'queued' });
    expect((await ti(api, 'load')).stateReason).toBe("pool 'qr_warehouse' does not exist: the task stays queued until it is created (POST /api/v1/pools)");
    expect((await ti(api, 'train')).stateReason).toBe("no worker polls queue 'qr_gpu'");

    // A worker polls qr_cpu but takes other task types only: the task says so.
    expect(await api.lease('qr-w1', { queues: ['qr_cpu'], taskTypes: ['spark', 'other'] })).toEqual([]);
    expect((await ti(api, 'plain')).stateReason).toBe("workers poll queue 'qr_cpu' but none takes task type 'noop' (they take: other, spark)");

    // The list and GraphQL say the same.
    const list = await api.ok('GET', '/api/v1/dags/qr/dagRuns/r/taskInstances');
    const reasons = Object.fromEntries(list.items.map((t: { taskId: string; stateReason: string | null }) => [t.taskId, t.stateReason]));
    const viaGraphql = await graphqlOk(h.t.app, `{ dagRun(dagId: "qr", runId: "r") { taskInstances { taskId stateReason } } }`);
    expect(Object.fromEntries(viaGraphql.dagRun.taskInstances.map((t: { taskId: string; stateReason: string | null }) => [t.taskId, t.stateReason]))).toEqual(reasons);
    expect(reasons.plain).toBe("workers poll queue 'qr_cpu' but none takes task type 'noop' (they take: other, spark)");
    // A worker that takes it comes: it leases the task.
    expect((await api.lease('qr-w3', { queues: ['qr_cpu'], taskTypes: ['noop'] })).map((l) => l.taskId)).toEqual(['plain']);
    expect((await ti(api, 'plain')).stateReason).toBeNull();

    // The default queue's worker cannot take the task while its pool is missing; once the pool exists, it does.
    expect(await api.lease('qr-w2', { queues: ['default'] })).toEqual([]);
    await api.ok('POST', '/api/v1/pools', { name: 'qr_warehouse', slots: 1 });
    expect((await ti(api, 'load')).stateReason).toBeNull();
    expect((await api.lease('qr-w2', { queues: ['default'] })).map((l) => l.taskId)).toEqual(['load']);
    expect((await ti(api, 'load')).stateReason).toBeNull();
    // Registering again with the pool there: no warning.
    expect((await api.ok('POST', '/api/v1/dags', doc)).warnings).toEqual([]);
  });
});
