import { describe, expect, it } from '@jest/globals';
import { RetentionJob } from '../../src/retention/retention.job.js';
import { Api, dag } from '../support/api.js';
import { useTestApp } from '../support/app.js';

// Every kind kept one day; batches of 2 (runs: 1) so each kind takes several statements.
const h = useTestApp({
  WEFT_RETENTION_RUNS_DAYS: '1',
  WEFT_RETENTION_TASK_TRIES_DAYS: '1',
  WEFT_RETENTION_TASK_LOGS_DAYS: '1',
  WEFT_RETENTION_XCOM_DAYS: '1',
  WEFT_RETENTION_DATASET_EVENTS_DAYS: '1',
  WEFT_RETENTION_AUDIT_DAYS: '1',
  WEFT_RETENTION_EVENTS_DAYS: '1',
  WEFT_RETENTION_BATCH_SIZE: '2',
});
const api = new Api(() => h.t.app);
const DAY = 86_400_000;
const count = async (table: string) => (await h.db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;

describe('retention clean-up', () => {
  it('deletes old finished runs with all they own, old logs, XCom, dataset events and audit entries, in batches', async () => {
    await api.registerDag(
      dag('kept', [{ taskId: 'a', outlets: ['wh.kept'] }, { taskId: 'b', dependsOn: ['a'] }], {
        schedule: '@daily',
        startDate: '2024-01-01T00:00:00Z',
        catchup: true,
      }),
    );
    await api.tick(new Date('2024-01-04T00:00:01Z'));
    const runs = (await api.ok('GET', '/api/v1/dags/kept/dagRuns')).items as { runId: string }[];
    expect(runs).toHaveLength(3);
    for (;;) {
      const leases = await api.lease('w', { queues: ['kept'] });
      if (!leases.length) break;
      for (const l of leases) {
        const logged = await h.t.app.inject({ method: 'POST', url: `/api/v1/leases/${l.leaseId}/logs`, payload: { lines: ['one', 'two', 'three'] } });
        expect(logged.statusCode).toBe(204);
        expect((await api.complete(l.leaseId, { status: 'success', xcom: { n: 1 } })).status).toBe(200);
      }
    }
    const newest = (await h.db.query(`SELECT run_id FROM dag_runs WHERE dag_id = 'kept' ORDER BY logical_date DESC LIMIT 1`)).rows[0].run_id as string;
    await api.trigger('kept', { runId: 'manual_running' });
    expect(await count('task_logs')).toBeGreaterThan(0);
    expect(await count('xcom')).toBe(6);
    expect(await count('dataset_events')).toBe(3);
    expect(await count('audit_log')).toBeGreaterThan(0);
    const events = await count('events');
    expect(events).toBeGreaterThan(0);
    // Numbered (as when someone subscribed), so the streams have counters.
    await h.db.query('SELECT weft_events_number(100000)');
    expect(await count(`event_streams WHERE stream LIKE 'ti:%'`)).toBe(4);

    // Two days later, everything finished is past the one-day retention.
    const result = await h.t.app.get(RetentionJob).run(new Date(Date.now() + 2 * DAY));
    expect(result).toMatchObject({ runs: 2, dataset_events: 3 });
    expect(result!.audit).toBeGreaterThan(0);
    expect(result!.events).toBe(events);

    // The newest scheduled run stays (the scheduler continues from it), and so does the run still going.
    const left = await h.db.query(`SELECT run_id FROM dag_runs WHERE dag_id = 'kept'`);
    expect(left.rows.map((r) => r.run_id).sort()).toEqual([newest, 'manual_running'].sort());
    // Cascade: nothing of the deleted runs remains; old logs, XCom and tries of the kept run are gone too.
    expect(await count('task_instances')).toBe(4);
    expect(await count('task_logs')).toBe(0);
    expect(await count('xcom')).toBe(0);
    expect(await count('task_instance_tries')).toBe(0);
    expect(await count('dataset_events')).toBe(0);
    expect(await count('audit_log')).toBe(0);
    expect(await count('events')).toBe(0);
    // The counters of the deleted runs' streams went with them; those of the runs kept and the DAG's run stream stay.
    const { rows: streams } = await h.db.query(`SELECT stream FROM event_streams`);
    const kept = (await h.db.query(`SELECT id FROM dag_runs WHERE dag_id = 'kept' ORDER BY id`)).rows.map((r) => `ti:${r.id}`);
    expect(streams.map((r) => r.stream).sort()).toEqual(['run:kept', ...kept].sort());

    // The scheduler does not re-create the deleted intervals.
    const tick = await api.tick(new Date('2024-01-04T00:00:02Z'));
    expect(tick.created).toBe(0);
  });

  it('deletes task log lines by age through the id order, keeping the newer ones', async () => {
    const ti = (await h.db.query(`SELECT id FROM task_instances ORDER BY id LIMIT 1`)).rows[0].id as number;
    const now = Date.now();
    for (let i = 0; i < 7; i++) {
      // Appended in time order, as the API does: the first five are old.
      await h.db.query(`INSERT INTO task_logs (task_instance_id, try_number, line, at) VALUES ($1, 1, $2, $3)`, [ti, `l${i}`, new Date(now - (i < 5 ? 3 : 0) * DAY)]);
    }
    const result = await h.t.app.get(RetentionJob).run(new Date(now));
    expect(result?.task_logs).toBe(5);
    expect((await h.db.query(`SELECT line FROM task_logs ORDER BY id`)).rows.map((r) => r.line)).toEqual(['l5', 'l6']);
  });

  it('deletes old delivered webhook deliveries and keeps pending ones however old', async () => {
    const hook = await api.ok('POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/retention', eventKinds: ['dag_run_state'] });
    const old = new Date(Date.now() - 3 * DAY);
    await h.db.query(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, stream, seq, kind, dag_id, payload, state, created_at)
       VALUES ($1, 1, 'run:x', 1, 'dag_run_state', 'x', '{}', 'delivered', $2), ($1, 2, 'run:x', 2, 'dag_run_state', 'x', '{}', 'pending', $2),
              ($1, 3, 'run:x', 3, 'dag_run_state', 'x', '{}', 'delivered', now())`,
      [hook.id, old],
    );
    const result = await h.t.app.get(RetentionJob).run(new Date());
    expect(result!.webhook_deliveries).toBe(1);
    const left = await h.db.query(`SELECT seq::int AS seq, state::text AS state FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY seq`, [hook.id]);
    expect(left.rows).toEqual([{ seq: 2, state: 'pending' }, { seq: 3, state: 'delivered' }]);
  });

  it('skips a pass while another scheduler holds the clean-up lock', async () => {
    await h.db.query(`SELECT pg_advisory_lock(hashtext('weft.retention'))`);
    try {
      expect(await h.t.app.get(RetentionJob).run(new Date())).toBeNull();
    } finally {
      await h.db.query(`SELECT pg_advisory_unlock(hashtext('weft.retention'))`);
    }
    expect(await h.t.app.get(RetentionJob).run(new Date())).not.toBeNull();
  });
});
