import { describe, expect, it, jest } from '@jest/globals';
import { Clock } from '../../src/common/clock.js';
import { canTransitionTask, type TaskState } from '../../src/engine/runs/domain/task-state.js';
import { Api, dag } from '../support/api.js';
import { useTestApp } from '../support/app.js';

const ctx = useTestApp();
const api = new Api(() => ctx.t.app);

describe('dependencies and upstream_failed', () => {
  it('a diamond whose middle task fails marks the join upstream_failed in the failing transaction', async () => {
    await api.registerDag(
      dag('diamond', [
        { taskId: 'a' },
        { taskId: 'b', dependsOn: ['a'] },
        { taskId: 'c', dependsOn: ['a'] },
        { taskId: 'd', dependsOn: ['b', 'c'] },
        { taskId: 'e', dependsOn: ['d'] },
      ]),
    );
    const run = await api.trigger('diamond');
    expect(run.state).toBe('running');
    expect(await api.taskStates('diamond', run.runId)).toEqual({ a: 'queued', b: 'none', c: 'none', d: 'none', e: 'none' });

    const [a] = await api.lease('w1', { queues: ['diamond'] });
    expect(a.taskId).toBe('a');
    expect((await api.complete(a.leaseId, { status: 'success' })).status).toBe(200);
    // Downstream tasks are queued by the completion itself, not by a later scheduler tick.
    expect(await api.taskStates('diamond', run.runId)).toMatchObject({ a: 'success', b: 'queued', c: 'queued' });

    const leases = await api.lease('w1', { queues: ['diamond'] });
    const b = leases.find((l) => l.taskId === 'b')!;
    const failed = await api.complete(b.leaseId, { status: 'failed', error: 'boom' });
    expect(failed.body).toMatchObject({ taskState: 'failed', runState: 'running' });
    // d and e (transitively) are upstream_failed right after b's completion committed.
    expect(await api.taskStates('diamond', run.runId)).toMatchObject({ b: 'failed', c: 'running', d: 'upstream_failed', e: 'upstream_failed' });

    const c = leases.find((l) => l.taskId === 'c')!;
    expect((await api.complete(c.leaseId, { status: 'success' })).body).toMatchObject({ runState: 'failed' });
    const finished = await api.run('diamond', run.runId);
    expect(finished).toMatchObject({ state: 'failed' });
    expect(finished.endDate).not.toBeNull();
  });
});

describe('trigger rules', () => {
  type Case = { rule: string; upstream: ('success' | 'failed')[]; expected: string; runState?: string };
  const cases: Case[] = [
    { rule: 'all_success', upstream: ['success', 'success'], expected: 'queued' },
    { rule: 'all_success', upstream: ['success', 'failed'], expected: 'upstream_failed' },
    { rule: 'all_failed', upstream: ['failed', 'failed'], expected: 'queued' },
    { rule: 'all_failed', upstream: ['success', 'failed'], expected: 'skipped' },
    { rule: 'all_done', upstream: ['success', 'failed'], expected: 'queued' },
    { rule: 'one_success', upstream: ['failed', 'success'], expected: 'queued' },
    { rule: 'one_success', upstream: ['failed', 'failed'], expected: 'upstream_failed' },
    { rule: 'one_failed', upstream: ['success', 'failed'], expected: 'queued' },
    { rule: 'one_failed', upstream: ['success', 'success'], expected: 'skipped' },
    { rule: 'none_failed', upstream: ['success', 'success'], expected: 'queued' },
    { rule: 'none_failed', upstream: ['success', 'failed'], expected: 'upstream_failed' },
    { rule: 'none_skipped', upstream: ['success', 'failed'], expected: 'queued' },
  ];

  it.each(cases)('$rule after $upstream -> $expected', async ({ rule, upstream, expected }) => {
    const dagId = `rule_${rule}_${upstream.join('_')}`;
    await api.registerDag(dag(dagId, [{ taskId: 'u1' }, { taskId: 'u2' }, { taskId: 'join', dependsOn: ['u1', 'u2'], triggerRule: rule }]));
    const run = await api.trigger(dagId);
    const leases = await api.lease(`w-${dagId}`, { queues: [dagId], capacity: 10 });
    expect(leases.map((l) => l.taskId).sort()).toEqual(['u1', 'u2']);
    for (const [i, outcome] of upstream.entries()) {
      const lease = leases.find((l) => l.taskId === `u${i + 1}`)!;
      expect((await api.complete(lease.leaseId, { status: outcome })).status).toBe(200);
    }
    expect((await api.taskStates(dagId, run.runId)).join).toBe(expected);
  });

  it('one_success and one_failed fire as soon as one upstream decides, before the others finish', async () => {
    await api.registerDag(
      dag('eager', [
        { taskId: 'fast' },
        { taskId: 'slow' },
        { taskId: 'on_success', dependsOn: ['fast', 'slow'], triggerRule: 'one_success' },
        { taskId: 'on_failure', dependsOn: ['fast', 'slow'], triggerRule: 'one_failed' },
      ]),
    );
    const run = await api.trigger('eager');
    const leases = await api.lease('w-eager', { queues: ['eager'] });
    await api.complete(leases.find((l) => l.taskId === 'fast')!.leaseId, { status: 'success' });
    expect(await api.taskStates('eager', run.runId)).toMatchObject({ slow: 'running', on_success: 'queued', on_failure: 'none' });
  });

  it('none_skipped is skipped after a skipped upstream, and always runs at once', async () => {
    await api.registerDag(
      dag('skips', [
        { taskId: 'ok' },
        { taskId: 'only_if_failed', dependsOn: ['ok'], triggerRule: 'all_failed' },
        { taskId: 'no_skips', dependsOn: ['only_if_failed'], triggerRule: 'none_skipped' },
        { taskId: 'after_skip', dependsOn: ['only_if_failed'] },
        { taskId: 'whatever', dependsOn: ['ok'], triggerRule: 'always' },
      ]),
    );
    const run = await api.trigger('skips');
    expect(await api.taskStates('skips', run.runId)).toMatchObject({ ok: 'queued', whatever: 'queued' });
    await api.drain('skips');
    expect(await api.taskStates('skips', run.runId)).toEqual({
      ok: 'success', only_if_failed: 'skipped', no_skips: 'skipped', after_skip: 'skipped', whatever: 'success',
    });
    expect((await api.run('skips', run.runId)).state).toBe('success');
  });
});

describe('retries', () => {
  it('retries with exponential backoff, capped, and fails after the last try', async () => {
    await api.registerDag(
      dag('flaky', [{ taskId: 'f', retries: 3, retryDelaySec: 10, retryExponentialBackoff: true, maxRetryDelaySec: 25 }]),
    );
    const run = await api.trigger('flaky');
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const [lease] = await api.lease('w-flaky', { queues: ['flaky'] });
      expect(lease).toMatchObject({ taskId: 'f', tryNumber: attempt, maxTries: 4 });
      const res = await api.complete(lease.leaseId, { status: 'failed', error: `try ${attempt}` });
      if (attempt === 4) {
        expect(res.body).toMatchObject({ taskState: 'failed', runState: 'failed' });
        break;
      }
      expect(res.body.taskState).toBe('up_for_retry');
      const { rows } = await ctx.db.query(
        `SELECT next_retry_at, end_date FROM task_instances WHERE dag_id = 'flaky' AND run_id = $1`,
        [run.runId],
      );
      const { next_retry_at: retryAt, end_date: endedAt } = rows[0];
      delays.push((retryAt.getTime() - endedAt.getTime()) / 1000);
      // Not before the delay has passed ...
      await api.tick(new Date(retryAt.getTime() - 1000));
      expect(await api.lease('w-flaky', { queues: ['flaky'] })).toEqual([]);
      // ... and back in the queue once it has.
      expect((await api.tick(retryAt)).requeued).toBe(1);
    }
    expect(delays).toEqual([10, 20, 25]);
    const ti = await api.ok('GET', `/api/v1/dags/flaky/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/f`);
    expect(ti.tries.map((x: { tryNumber: number; state: string; error: string }) => [x.tryNumber, x.state, x.error])).toEqual([
      [1, 'up_for_retry', 'try 1'],
      [2, 'up_for_retry', 'try 2'],
      [3, 'up_for_retry', 'try 3'],
      [4, 'failed', 'try 4'],
    ]);
  });

  it('a failure reported as not retryable fails at once', async () => {
    await api.registerDag(dag('no_retry', [{ taskId: 'f', retries: 5 }]));
    await api.trigger('no_retry');
    const [lease] = await api.lease('w-nr', { queues: ['no_retry'] });
    expect((await api.complete(lease.leaseId, { status: 'failed', retryable: false })).body.taskState).toBe('failed');
  });
});

describe('lease protocol', () => {
  it('completion is idempotent for the same payload and a conflict for another', async () => {
    await api.registerDag(dag('idem', [{ taskId: 'x' }, { taskId: 'y', dependsOn: ['x'] }]));
    await api.trigger('idem');
    const [lease] = await api.lease('w-idem', { queues: ['idem'] });
    const payload = { status: 'success', xcom: { return_value: { rows: 3 } } };
    const first = await api.complete(lease.leaseId, payload);
    expect(first.body).toMatchObject({ taskState: 'success', duplicate: false });
    const again = await api.complete(lease.leaseId, { xcom: { return_value: { rows: 3 } }, status: 'success' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ taskState: 'success', duplicate: true });
    const other = await api.complete(lease.leaseId, { status: 'failed' });
    expect(other.status).toBe(409);
    expect(other.body.details).toEqual({ reason: 'already_completed' });
    const hb = await api.call('POST', `/api/v1/leases/${lease.leaseId}/heartbeat`);
    expect(hb.status).toBe(409);
    // y was queued exactly once.
    const { rows } = await ctx.db.query(`SELECT count(*)::int AS n FROM task_instances WHERE dag_id = 'idem' AND task_id = 'y' AND state = 'queued'`);
    expect(rows[0].n).toBe(1);
  });

  it('passes XCom to downstream templates and serves it over the API', async () => {
    await api.registerDag(
      dag('xcom_flow', [
        { taskId: 'count' },
        { taskId: 'report', type: 'shell', command: 'echo rows={{ xcom.count.return_value }} on {{ ds }}', dependsOn: ['count'], xcomPull: ['count'] },
      ]),
    );
    const run = await api.trigger('xcom_flow', { logicalDate: '2024-03-01T00:00:00Z', conf: { note: 'hi' } });
    const [count] = await api.lease('w-x', { queues: ['xcom_flow'] });
    await api.complete(count.leaseId, { status: 'success', xcom: { return_value: 1234 } });
    const [report] = await api.lease('w-x', { queues: ['xcom_flow'] });
    expect(report).toMatchObject({
      taskId: 'report',
      taskType: 'shell',
      task: { command: 'echo rows=1234 on 2024-03-01' },
      upstreamXcom: { count: { return_value: 1234 } },
      conf: { note: 'hi' },
      tryNumber: 1,
    });
    expect(report.heartbeatIntervalSec).toBeGreaterThan(0);
    const xcoms = await api.ok('GET', `/api/v1/dags/xcom_flow/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/count/xcomEntries`);
    expect(xcoms.items).toEqual([expect.objectContaining({ key: 'return_value', value: 1234, tryNumber: 1 })]);
    await api.complete(report.leaseId, { status: 'success' });
  });

  it("shows only the current try's XCom: a rerun that does not publish a key leaves none of the earlier try's (as Airflow clears it when a try starts)", async () => {
    await api.registerDag(dag('xcom_rerun', [{ taskId: 'count' }, { taskId: 'report', dependsOn: ['count'], xcomPull: ['count'] }]));
    const run = await api.trigger('xcom_rerun');
    const entries = async () =>
      (await api.ok('GET', `/api/v1/dags/xcom_rerun/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/count/xcomEntries`)).items.map(
        (x: { key: string; value: unknown; tryNumber: number }) => [x.key, x.value, x.tryNumber],
      );
    const [count1] = await api.lease('w-xr', { queues: ['xcom_rerun'] });
    await api.complete(count1.leaseId, { status: 'success', xcom: { return_value: 1, extra: 'from try 1' } });
    const [report1] = await api.lease('w-xr', { queues: ['xcom_rerun'] });
    expect(report1.upstreamXcom).toEqual({ count: { return_value: 1, extra: 'from try 1' } });
    await api.complete(report1.leaseId, { status: 'success' });

    await api.ok('POST', '/api/v1/dags/xcom_rerun/clearTaskInstances', { taskIds: ['count'], includeDownstream: true, dryRun: false });
    // Until the new try starts, the task instance's XCom is its last try's.
    expect(await entries()).toEqual([['extra', 'from try 1', 1], ['return_value', 1, 1]]);
    const [count2] = await api.lease('w-xr', { queues: ['xcom_rerun'] });
    expect(count2.tryNumber).toBe(2);
    expect(await entries()).toEqual([]);
    await api.complete(count2.leaseId, { status: 'success', xcom: { return_value: 2 } });
    const [report2] = await api.lease('w-xr', { queues: ['xcom_rerun'] });
    expect(report2.upstreamXcom).toEqual({ count: { return_value: 2 } });
    expect(await entries()).toEqual([['return_value', 2, 2]]);
    await api.complete(report2.leaseId, { status: 'success' });
  });

  it('a template that cannot render fails the attempt with the reason, not the scheduler', async () => {
    await api.registerDag(dag('bad_tpl', [{ taskId: 't', type: 'shell', command: 'echo {{ no_such_var }}', retries: 2 }]));
    const run = await api.trigger('bad_tpl');
    expect(await api.lease('w-tpl', { queues: ['bad_tpl'] })).toEqual([]);
    const ti = await api.ok('GET', `/api/v1/dags/bad_tpl/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/t`);
    expect(ti.state).toBe('failed');
    expect(ti.lastError).toMatch(/no_such_var/);
  });

  it('the last tasks of runs completed at the same moment still finish every run', async () => {
    // Of the last tasks of a run, completed at the same moment by the one-statement completion
    // (weft_finish_quietly_many, alone or in batches), one must still see the others' ends and evaluate the run.
    // (Checked to fail with that function's run lock removed.)
    await api.registerDag(dag('race_end', ['a', 'b', 'c', 'd', 'e'].map((taskId) => ({ taskId })), { maxActiveRuns: 100, maxActiveTasks: 1000 }));
    const runs = [];
    for (let i = 0; i < 24; i++) runs.push(await api.trigger('race_end', { logicalDate: new Date(Date.UTC(2022, 0, 1, 0, i)).toISOString() }));
    const leases: any[] = [];
    for (let w = 0; w < 4; w++) leases.push(...(await api.lease(`w-race${w}`, { queues: ['race_end'], capacity: 50 })));
    expect(leases.length).toBe(120); // within default_pool's 128 slots
    // Run by run, so the five tasks of one run are completed together by the concurrent requests.
    leases.sort((x, y) => x.runId.localeCompare(y.runId) || x.taskId.localeCompare(y.taskId));
    let next = 0;
    await Promise.all(Array.from({ length: 20 }, async () => {
      while (next < leases.length) {
        const l = leases[next++];
        expect((await api.complete(l.leaseId, { status: 'success' })).status).toBe(200);
      }
    }));
    const states = await ctx.db.query(`SELECT state, count(*)::int AS n FROM dag_runs WHERE dag_id = 'race_end' GROUP BY state`);
    expect(states.rows).toEqual([{ state: 'success', n: runs.length }]);
  });

  it('a join whose upstream tasks complete at the same moment is queued once, in every run', async () => {
    // A completion that evaluates reads the run's task states after it holds the run's lock (a statement of its
    // own, after lockAttempt): read any earlier, two ends that wait for each other each see the other still running
    // and nobody queues the join. (Checked to fail with the states read in the snapshot of the statement that took the locks.)
    const up = ['a', 'b', 'c', 'd', 'e'];
    await api.registerDag(dag('race_join', [...up.map((taskId) => ({ taskId })), { taskId: 'join', dependsOn: up }], { maxActiveRuns: 100, maxActiveTasks: 1000 }));
    const runs = [];
    for (let i = 0; i < 24; i++) runs.push(await api.trigger('race_join', { logicalDate: new Date(Date.UTC(2022, 0, 1, 0, i)).toISOString() }));
    const leases: any[] = [];
    for (let w = 0; w < 4; w++) leases.push(...(await api.lease(`w-join${w}`, { queues: ['race_join'], capacity: 50 })));
    expect(leases.length).toBe(120);
    leases.sort((x, y) => x.runId.localeCompare(y.runId) || x.taskId.localeCompare(y.taskId));
    let next = 0;
    await Promise.all(Array.from({ length: 20 }, async () => {
      while (next < leases.length) {
        const l = leases[next++];
        // XCom on some of them: written in the completion's transaction before the evaluation.
        const body = l.taskId === 'b' || l.taskId === 'd' ? { status: 'success', xcom: { return_value: l.taskId } } : { status: 'success' };
        expect((await api.complete(l.leaseId, body)).status).toBe(200);
      }
    }));
    const joins = await ctx.db.query(`SELECT state, count(*)::int AS n FROM task_instances WHERE dag_id = 'race_join' AND task_id = 'join' GROUP BY state`);
    expect(joins.rows).toEqual([{ state: 'queued', n: runs.length }]);
    const done = await api.drain('race_join');
    expect(done.map((l) => l.taskId)).toEqual(Array(runs.length).fill('join'));
    const states = await ctx.db.query(`SELECT state, count(*)::int AS n FROM dag_runs WHERE dag_id = 'race_join' GROUP BY state`);
    expect(states.rows).toEqual([{ state: 'success', n: runs.length }]);
  });

  it('a waiting long poll is answered as soon as a task is queued', async () => {
    await api.registerDag(dag('wake', [{ taskId: 'w' }], { maxActiveRuns: 1 }));
    const started = Date.now();
    const waiting = api.lease('w-wake', { queues: ['wake'], waitSeconds: 20, capacity: 1 });
    await new Promise((r) => setTimeout(r, 200));
    await api.trigger('wake');
    const leases = await waiting;
    expect(leases.map((l) => l.dagId)).toEqual(['wake']);
    expect(Date.now() - started).toBeLessThan(20_000);
    await api.complete(leases[0].leaseId, { status: 'success' });
  });

  it('an empty wait ends with 200 and no leases', async () => {
    const res = await api.call('POST', '/api/v1/workers/w-idle/lease', { queues: ['nothing_here'], waitSeconds: 0.2 });
    expect(res).toEqual({ status: 200, body: { leases: [] } });
  });

  it('rejects bad lease requests naming the field', async () => {
    const res = await api.call('POST', '/api/v1/workers/w1/lease', { queues: [], waitSeconds: 99 });
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: { path: string }) => d.path).sort()).toEqual(['queues', 'waitSeconds']);
    expect((await api.call('POST', '/api/v1/leases/not-a-uuid/heartbeat')).status).toBe(400);
    expect((await api.call('POST', '/api/v1/leases/00000000-0000-4000-8000-000000000000/complete', { status: 'success' })).status).toBe(404);
  });

  it('an expired lease is reaped as a failed attempt and fenced', async () => {
    await api.registerDag(dag('lost', [{ taskId: 'l', retries: 1, retryDelaySec: 0 }]));
    const run = await api.trigger('lost');
    const [lease] = await api.lease('w-lost', { queues: ['lost'] });
    const expiry = new Date(lease.leaseExpiresAt);
    const tiUrl = `/api/v1/dags/lost/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/l`;
    await api.tick(new Date(expiry.getTime() - 1000));
    expect((await api.ok('GET', tiUrl)).state).toBe('running');
    await api.tick(new Date(expiry.getTime() + 1000));
    const ti = await api.ok('GET', tiUrl);
    expect(['up_for_retry', 'queued']).toContain(ti.state);
    expect(ti.tries[0].error).toMatch(/lease expired/);
    const late = await api.complete(lease.leaseId, { status: 'success' });
    expect(late.status).toBe(409);
    expect(late.body.details).toEqual({ reason: 'lease_lost' });
    expect((await api.call('POST', `/api/v1/leases/${lease.leaseId}/heartbeat`)).status).toBe(409);
  });

  it('an attempt past its execution timeout fails', async () => {
    await api.registerDag(dag('slow', [{ taskId: 's', executionTimeoutSec: 2 }]));
    const run = await api.trigger('slow');
    const [lease] = await api.lease('w-slow', { queues: ['slow'] });
    expect(lease.executionDeadline).not.toBeNull();
    // Heartbeats keep the lease alive but do not move the deadline.
    expect((await api.call('POST', `/api/v1/leases/${lease.leaseId}/heartbeat`)).status).toBe(200);
    await api.tick(new Date(new Date(lease.executionDeadline).getTime() + 10));
    const ti = await api.ok('GET', `/api/v1/dags/slow/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/s`);
    expect(ti.state).toBe('failed');
    expect(ti.lastError).toMatch(/execution timeout/);
  });

  it('stores log lines per try', async () => {
    await api.registerDag(dag('logs', [{ taskId: 'l' }]));
    const run = await api.trigger('logs');
    const [lease] = await api.lease('w-logs', { queues: ['logs'] });
    const res = await api.call('POST', `/api/v1/leases/${lease.leaseId}/logs`, { lines: ['hello', { line: 'oops', stream: 'stderr' }] });
    expect(res.status).toBe(204);
    await api.complete(lease.leaseId, { status: 'success' });
    const logs = await api.ok('GET', `/api/v1/dags/logs/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/l/logs?tryNumber=1`);
    expect(logs.items.map((l: { line: string; stream: string }) => [l.line, l.stream])).toEqual([['hello', 'stdout'], ['oops', 'stderr']]);
    const workers = await api.ok('GET', '/api/v1/workers');
    expect(workers.items.map((w: { workerId: string }) => w.workerId)).toContain('w-logs');
  });
});

describe('claim order and limits', () => {
  it('claims by priority weight, then oldest logical date', async () => {
    await api.registerDag(dag('prio', [{ taskId: 'low', priorityWeight: 1 }, { taskId: 'high', priorityWeight: 10 }], { maxActiveRuns: 5 }));
    await api.trigger('prio', { logicalDate: '2024-01-02T00:00:00Z' });
    await api.trigger('prio', { logicalDate: '2024-01-01T00:00:00Z' });
    const order: string[] = [];
    for (;;) {
      const [l] = await api.lease('w-prio', { queues: ['prio'], capacity: 1 });
      if (!l) break;
      order.push(`${l.taskId}@${l.logicalDate.slice(0, 10)}`);
      await api.complete(l.leaseId, { status: 'success' });
    }
    expect(order).toEqual(['high@2024-01-01', 'high@2024-01-02', 'low@2024-01-01', 'low@2024-01-02']);
  });

  it('never exceeds a pool’s slots, counting tasks that take several', async () => {
    await api.ok('POST', '/api/v1/pools', { name: 'tiny', slots: 3 });
    await api.registerDag(
      dag('pooled', [
        { taskId: 'big', pool: 'tiny', poolSlots: 2 },
        { taskId: 'small1', pool: 'tiny' },
        { taskId: 'small2', pool: 'tiny' },
      ]),
    );
    await api.trigger('pooled');
    const first = await api.lease('w-pool', { queues: ['pooled'], capacity: 10 });
    expect(first.map((l) => l.taskId).sort()).toEqual(['big', 'small1']);
    expect(await api.lease('w-pool', { queues: ['pooled'], capacity: 10 })).toEqual([]);
    await api.complete(first.find((l) => l.taskId === 'big')!.leaseId, { status: 'success' });
    expect((await api.lease('w-pool', { queues: ['pooled'], capacity: 10 })).map((l) => l.taskId)).toEqual(['small2']);
  });

  it('caps running tasks of a DAG at maxActiveTasks across its runs', async () => {
    await api.registerDag(dag('capped', [{ taskId: 'a' }, { taskId: 'b' }, { taskId: 'c' }], { maxActiveTasks: 2, maxActiveRuns: 2 }));
    await api.trigger('capped', { logicalDate: '2024-01-01T00:00:00Z' });
    await api.trigger('capped', { logicalDate: '2024-01-02T00:00:00Z' });
    const leases = await Promise.all([api.lease('w-c1', { queues: ['capped'], capacity: 5 }), api.lease('w-c2', { queues: ['capped'], capacity: 5 })]);
    expect(leases.flat()).toHaveLength(2);
  });
});

describe('timestamps', () => {
  it("stamps a run's queued and start times with its transaction's one clock (the service's Clock)", async () => {
    await api.registerDag(dag('one_clock', [{ taskId: 'a' }]));
    const at = new Date('2031-03-04T05:06:07.089Z');
    const clock = jest.spyOn(ctx.t.app.get(Clock), 'now').mockReturnValue(at);
    try {
      const run = await api.trigger('one_clock');
      expect(run.state).toBe('running');
      const stored = await api.run('one_clock', run.runId);
      expect([stored.queuedAt, stored.startDate]).toEqual([at.toISOString(), at.toISOString()]);
    } finally {
      clock.mockRestore();
    }
  });
});

describe('state writes in SQL', () => {
  it('every task state change the SQL writers make (claim, attempt end, clear, mark) is one the transition table allows', async () => {
    await api.registerDag(dag('sql_transitions', [{ taskId: 'a' }, { taskId: 'b', dependsOn: ['a'] }, { taskId: 'c' }]));
    const run = await api.trigger('sql_transitions');
    const first = await api.lease('w', { queues: ['sql_transitions'] });
    for (const l of first) expect((await api.complete(l.leaseId, { status: l.taskId === 'a' ? 'failed' : 'success' })).status).toBe(200);
    await api.ok('POST', '/api/v1/dags/sql_transitions/clearTaskInstances', { taskIds: ['a'], includeDownstream: true, dryRun: false });
    const [again] = await api.lease('w', { queues: ['sql_transitions'] });
    await api.ok('PATCH', `/api/v1/dags/sql_transitions/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/${again.taskId}`, { newState: 'success' });
    await api.drain('sql_transitions');

    // The events outbox records every committed change of task_instances.state, whoever wrote it (a trigger).
    const { rows } = await ctx.db.query<{ from: TaskState; to: TaskState }>(
      `SELECT DISTINCT payload->>'previousState' AS from, payload->>'state' AS to FROM events
        WHERE dag_id = 'sql_transitions' AND stream LIKE 'ti:%' AND payload->>'previousState' IS NOT NULL`,
    );
    const pairs = rows.map((r) => `${r.from}→${r.to}`);
    expect(pairs).toEqual(expect.arrayContaining(['none→queued', 'queued→running', 'running→failed', 'running→success', 'failed→none']));
    // One write may take two checked steps: a task that is not a sensor goes none → scheduled → queued at once
    // (RunEngine.placeChange), so the outbox sees none → queued.
    const allowed = (from: TaskState, to: TaskState) =>
      canTransitionTask(from, to) || (to === 'queued' && canTransitionTask(from, 'scheduled') && canTransitionTask('scheduled', 'queued'));
    expect(rows.filter((r) => !allowed(r.from, r.to)).map((r) => `${r.from}→${r.to}`)).toEqual([]);
  });
});
