import { describe, expect, it } from '@jest/globals';
import { Api, dag } from '../support/api.js';
import { useTestApp } from '../support/app.js';

const ctx = useTestApp();
const api = new Api(() => ctx.t.app);

describe('external_task: daily_summary waits for the 24 hourly_etl runs of its day', () => {
  it('runs in order, and the waiting sensor holds no worker or pool slot', async () => {
    await api.ok('POST', '/api/v1/pools', { name: 'single', slots: 1 });
    await api.registerDag(dag('hourly_etl', [{ taskId: 'etl' }], { schedule: '@hourly', startDate: '2024-01-01T00:00:00Z', maxActiveRuns: 30, maxActiveTasks: 30 }));
    await api.registerDag(
      dag(
        'daily_summary',
        [
          { taskId: 'wait_hourly', type: 'external_task', externalDagId: 'hourly_etl', pool: 'single', pokeIntervalSec: 60 },
          { taskId: 'summarize', dependsOn: ['wait_hourly'], pool: 'single' },
        ],
        { schedule: '@daily', startDate: '2024-01-01T00:00:00Z' },
      ),
    );
    await api.registerDag(dag('other_work', [{ taskId: 'x', pool: 'single' }]));
    let now = new Date('2024-01-02T00:00:30Z');
    await api.tick(now);
    const daily = (await api.ok('GET', '/api/v1/dags/daily_summary/dagRuns')).items[0];
    expect(daily.logicalDate).toBe('2024-01-01T00:00:00.000Z');
    expect(await api.taskStates('daily_summary', daily.runId)).toEqual({ wait_hourly: 'scheduled', summarize: 'none' });

    // 23 of the 24 hourly runs finish; one is still running.
    const hourly = await api.lease('h', { queues: ['hourly_etl'], capacity: 30 });
    expect(hourly).toHaveLength(24);
    for (const l of hourly.slice(0, 23)) await api.complete(l.leaseId, { status: 'success' });
    now = new Date(now.getTime() + 61_000);
    await api.tick(now);
    expect((await api.taskStates('daily_summary', daily.runId)).wait_hourly).toBe('scheduled');

    // The pool of size 1 is free for other work while the sensor waits.
    await api.trigger('other_work');
    const [other] = await api.lease('o', { queues: ['other_work'] });
    expect(other.taskId).toBe('x');
    await api.complete(other.leaseId, { status: 'success' });

    await api.complete(hourly[23].leaseId, { status: 'success' });
    now = new Date(now.getTime() + 61_000);
    expect((await api.tick(now)).sensorsFinished).toBe(1);
    expect(await api.taskStates('daily_summary', daily.runId)).toEqual({ wait_hourly: 'success', summarize: 'queued' });
    await api.drain('daily_summary');
    expect((await api.run('daily_summary', daily.runId)).state).toBe('success');
    const { rows } = await ctx.db.query(
      `SELECT (SELECT max(end_date) FROM task_instances WHERE dag_id = 'hourly_etl') < (SELECT start_date FROM task_instances WHERE dag_id = 'daily_summary' AND task_id = 'summarize') AS ordered`,
    );
    expect(rows[0].ordered).toBe(true);
    // Keep the next test's ticks from catching up months of hourly runs.
    await api.ok('PATCH', '/api/v1/dags/hourly_etl', { isPaused: true });
  });

  it('fails the sensor when an external run failed, and on timeout', async () => {
    await api.registerDag(dag('upstream_dag', [{ taskId: 'u' }], { schedule: '@daily', startDate: '2024-03-01T00:00:00Z' }));
    await api.registerDag(
      dag('waiter', [{ taskId: 'w', type: 'external_task', externalDagId: 'upstream_dag', externalTaskId: 'u' }, { taskId: 'after', dependsOn: ['w'] }], {
        schedule: '@daily',
        startDate: '2024-03-01T00:00:00Z',
      }),
    );
    await api.registerDag(
      dag('impatient', [{ taskId: 'w', type: 'external_task', externalDagId: 'never_runs', timeoutSec: 120 }], {
        schedule: '@daily',
        startDate: '2024-03-01T00:00:00Z',
      }),
    );
    const now = new Date('2024-03-02T00:00:30Z');
    await api.tick(now);
    const [lease] = await api.lease('u', { queues: ['upstream_dag'] });
    await api.complete(lease.leaseId, { status: 'failed' });
    await api.tick(new Date(now.getTime() + 61_000));
    const waiterRun = (await api.ok('GET', '/api/v1/dags/waiter/dagRuns')).items[0];
    expect(await api.taskStates('waiter', waiterRun.runId)).toEqual({ w: 'failed', after: 'upstream_failed' });
    await api.tick(new Date(now.getTime() + 181_000));
    const impatientRun = (await api.ok('GET', '/api/v1/dags/impatient/dagRuns')).items[0];
    const w = await api.ok('GET', `/api/v1/dags/impatient/dagRuns/${encodeURIComponent(impatientRun.runId)}/taskInstances/w`);
    expect(w).toMatchObject({ state: 'failed', lastError: expect.stringContaining('timed out') });
  });
});

