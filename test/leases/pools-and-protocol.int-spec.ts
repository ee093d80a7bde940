import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let api: Api;

beforeAll(async () => {
  t = await startTestApp({ WEFT_QUEUED_TIMEOUT_SEC: '60', WEFT_QUEUED_TIMEOUT_FAIL: 'true' });
  api = new Api(t.app);
});
afterAll(async () => {
  await t.close();
});

describe('pools API', () => {
  it('has default_pool and manages pools with occupancy', async () => {
    const list = await api.ok('GET', '/api/v1/pools');
    expect(list.items).toEqual([expect.objectContaining({ name: 'default_pool', slots: 128, runningSlots: 0, openSlots: 128 })]);

    expect((await api.call('POST', '/api/v1/pools', { name: 'db_pool', slots: 2, description: 'warehouse' })).status).toBe(201);
    expect((await api.call('POST', '/api/v1/pools', { name: 'db_pool', slots: 2 })).status).toBe(409);
    const bad = await api.call('POST', '/api/v1/pools', { name: 'bad name', slots: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: any) => d.path).sort()).toEqual(['name', 'slots']);

    await api.registerDag(dag('pool_user', [{ taskId: 'a', pool: 'db_pool' }, { taskId: 'b', pool: 'db_pool' }, { taskId: 'c', pool: 'db_pool' }]));
    await api.trigger('pool_user');
    const leases = await api.lease('w', { queues: ['pool_user'] });
    expect(leases).toHaveLength(2);
    expect(await api.ok('GET', '/api/v1/pools/db_pool')).toMatchObject({ slots: 2, runningSlots: 2, queuedSlots: 1, openSlots: 0 });
    expect((await api.call('DELETE', '/api/v1/pools/db_pool')).status).toBe(409);

    // Raising the slots lets the waiting task through.
    expect((await api.ok('PATCH', '/api/v1/pools/db_pool', { slots: 3 })).openSlots).toBe(1);
    expect(await api.lease('w', { queues: ['pool_user'] })).toHaveLength(1);

    expect((await api.call('DELETE', '/api/v1/pools/default_pool')).status).toBe(409);
    expect((await api.call('GET', '/api/v1/pools/nope')).status).toBe(404);
    expect((await api.call('PATCH', '/api/v1/pools/db_pool', {})).status).toBe(400);
  });
});

describe('complete-and-lease-next', () => {
  it('returns the next lease in the completion response', async () => {
    await api.registerDag(dag('chain', [{ taskId: 'a' }, { taskId: 'b', dependsOn: ['a'] }]));
    await api.trigger('chain');
    const [a] = await api.lease('w-chain', { queues: ['chain'] });
    const res = await api.complete(a.leaseId, { status: 'success', next: { capacity: 1 } });
    expect(res.status).toBe(200);
    expect(res.body.leases.map((l: any) => l.taskId)).toEqual(['b']);
  });
});

describe('logs per try', () => {
  it('reads the lines of one try', async () => {
    await api.registerDag(dag('twice', [{ taskId: 't', retries: 1, retryDelaySec: 0 }]));
    const run = await api.trigger('twice');
    for (const n of [1, 2]) {
      if (n === 2) await api.tick(new Date(Date.now() + 1000));
      const [l] = await api.lease('w-twice', { queues: ['twice'] });
      await api.ok('POST', `/api/v1/leases/${l.leaseId}/logs`, { lines: [`try ${n}`] });
      await api.complete(l.leaseId, { status: n === 1 ? 'failed' : 'success' });
    }
    const base = `/api/v1/dags/twice/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/t`;
    expect((await api.ok('GET', `${base}/tries/2/logs`)).items.map((l: any) => l.line)).toEqual(['try 2']);
    expect((await api.ok('GET', `${base}/logs`)).items.map((l: any) => l.line)).toEqual(['try 1', 'try 2']);
  });
});

describe('queued too long', () => {
  it('fails a task nobody leases within the queued timeout and evaluates downstream', async () => {
    await api.registerDag(
      dag('orphan', [{ taskId: 'lonely' }, { taskId: 'after', dependsOn: ['lonely'] }], {
        onFailureCallbacks: [{ type: 'webhook', url: 'http://127.0.0.1:9/alerts' }],
      }),
    );
    const run = await api.trigger('orphan');
    await api.tick(new Date(Date.now() + 30_000));
    expect((await api.taskStates('orphan', run.runId)).lonely).toBe('queued');
    await api.tick(new Date(Date.now() + 61_000));
    expect(await api.taskStates('orphan', run.runId)).toEqual({ lonely: 'failed', after: 'upstream_failed' });
    expect((await api.run('orphan', run.runId)).state).toBe('failed');
    // It failed for good like any task: the task_failed alert (besides the run's).
    const alerts = await api.ok('GET', '/api/v1/alertDeliveries?dagId=orphan&kind=task_failed');
    expect(alerts.items.map((d: any) => d.message.summary)).toEqual(['lonely failed without running: queued for more than 60s without a worker']);
  });
});

describe('xcom set', () => {
  it('sets a value by hand and refuses values over the limit with 413', async () => {
    await api.registerDag(dag('manual_x', [{ taskId: 'a' }]));
    const run = await api.trigger('manual_x');
    const url = `/api/v1/dags/manual_x/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/a/xcomEntries`;
    expect((await api.call('PUT', `${url}/fixed`, { value: { rows: 7 } })).status).toBe(200);
    expect((await api.ok('GET', `${url}/fixed`)).value).toEqual({ rows: 7 });
    const big = await api.call('PUT', `${url}/big`, { value: 'x'.repeat(70_000) });
    expect(big.status).toBe(413);
    expect(big.body.message).toMatch(/WEFT_MAX_XCOM_BYTES/);
    const [lease] = await api.lease('w-mx', { queues: ['manual_x'] });
    const tooBig = await api.complete(lease.leaseId, { status: 'success', xcom: { return_value: 'y'.repeat(70_000) } });
    expect(tooBig.status).toBe(413);
    expect((await api.taskStates('manual_x', run.runId)).a).toBe('running');
  });
});
