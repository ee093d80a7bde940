import { beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { AlertsRepository } from '../../src/alerts/alerts.repository.js';
import { useTestDatabase } from '../support/pg-admin.js';

/**
 * The lookups of the SLA early warning (a task's last successful attempts, for its p95) and of PagerDuty resolves
 * (the PagerDuty triggers still open) have indexes of their own: on a filled table the planner takes them instead of
 * reading every task instance of the DAG, or every alert delivery. Plans are checked, not times.
 */
const h = useTestDatabase();
let c: pg.Client;

beforeAll(async () => {
  c = h.client;
  // 20 DAGs x 100 runs x 50 tasks, one successful try each; 20,000 alert deliveries, one in ten to PagerDuty.
  await c.query(`SET session_replication_role = replica`); // rows only: no triggers, no foreign keys to satisfy
  await c.query(`INSERT INTO task_instances (dag_run_id, dag_id, run_id, task_id, state, try_number, task_type, logical_date, start_date, end_date)
    SELECT r, 'dag' || (r % 20), 'run' || r, 't' || t, 'success', 1, 'noop', now() - make_interval(hours => r), now() - make_interval(hours => r),
           now() - make_interval(hours => r) + make_interval(secs => 10 + t % 7)
      FROM generate_series(1, 2000) r, generate_series(1, 50) t`);
  await c.query(`INSERT INTO task_instance_tries (task_instance_id, try_number, state, start_date, end_date) SELECT id, 1, 'success', start_date, end_date FROM task_instances`);
  await c.query(`INSERT INTO alert_deliveries (dedupe_key, kind, dag_id, dag_version_id, callback_list, callback_index, channel, message, state, task_instance_id)
    SELECT 'k' || i, 'task_failed', 'dag1', 1, 'onFailure', 0, CASE WHEN i % 10 = 0 THEN 'pagerduty' ELSE 'slack' END,
           jsonb_build_object('incidentKey', 'task_failed:ti:' || i, 'summary', 's'), 'delivered', i
      FROM generate_series(1, 20000) i`);
  await c.query(`SET session_replication_role = origin`);
  await c.query('ANALYZE task_instances, task_instance_tries, alert_deliveries');
});

async function plan(sql: string): Promise<string> {
  const { rows } = await c.query(`EXPLAIN (COSTS OFF) ${sql}`);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

describe('alert lookup indexes', () => {
  it("finds a task's attempts across runs by (dag_id, task_id) for the p95 (AlertsRepository.recordSlaWarnings)", async () => {
    const p = await plan(`SELECT extract(epoch FROM tr.end_date - tr.start_date)::float8 AS sec
        FROM task_instance_tries tr JOIN task_instances x ON x.id = tr.task_instance_id
       WHERE x.dag_id = 'dag7' AND x.task_id = 't42' AND tr.state = 'success' AND tr.start_date IS NOT NULL AND tr.end_date IS NOT NULL
       ORDER BY tr.end_date DESC LIMIT 30`);
    expect(p).toContain('task_instances_dag_id_task_id_idx');
  });

  it('reads only open PagerDuty triggers for resolves (AlertsRepository.recordResolutions)', async () => {
    const p = await plan(`SELECT d.id FROM alert_deliveries d
       WHERE d.channel = 'pagerduty' AND NOT (d.message ? 'action') AND d.resolved_at IS NULL AND d.state <> 'pending' AND d.message ? 'incidentKey'`);
    expect(p).toContain('alert_deliveries_pagerduty_trigger_idx');
    expect(p).not.toContain('Seq Scan on alert_deliveries');
  });

  it('resolves each trigger once and leaves nothing open for the next pass to read', async () => {
    const repo = new AlertsRepository(c as unknown as pg.Pool);
    const open = async () =>
      (await c.query(`SELECT count(*)::int AS n FROM alert_deliveries WHERE channel = 'pagerduty' AND NOT (message ? 'action') AND resolved_at IS NULL`)).rows[0].n;
    expect(await open()).toBe(2000);
    // Every one of the 2,000 triggers' task instances has succeeded: one resolve each, and each trigger is closed.
    expect(await repo.recordResolutions(c, new Date())).toBe(2000);
    expect(await open()).toBe(0);
    const { rows } = await c.query(`SELECT count(*)::int AS n FROM alert_deliveries WHERE message ->> 'action' = 'resolve' AND state = 'pending'`);
    expect(rows[0].n).toBe(2000);
    // The next pass has nothing to read (the partial index of the test above holds open triggers only), writes nothing.
    expect(await repo.recordResolutions(c, new Date())).toBe(0);
  });
});
