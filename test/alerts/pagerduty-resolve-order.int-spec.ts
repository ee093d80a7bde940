import { beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { AlertsRepository } from '../../src/alerts/alerts.repository.js';
import { useTestDatabase } from '../support/pg-admin.js';

/**
 * The resolve pass (AlertsRepository.recordResolutions) against rows written directly: a task instance that failed
 * twice (two triggers of one incident, the second still pending, in a retry's backoff) and then succeeded. PagerDuty
 * must not get the resolve before the second trigger, or the incident opens again with nothing left to resolve it.
 */
const h = useTestDatabase();
let c: pg.Client;
let repo: AlertsRepository;

beforeAll(async () => {
  c = h.client;
  repo = new AlertsRepository(c as unknown as pg.Pool);
  await c.query(`SET session_replication_role = replica`); // rows only: no triggers, no foreign keys to satisfy
  await c.query(`INSERT INTO task_instances (id, dag_run_id, dag_id, run_id, task_id, state, try_number, task_type, logical_date, end_date)
    VALUES (7, 1, 'd', 'r', 't', 'success', 3, 'noop', now(), now())`);
  await c.query(`INSERT INTO alert_deliveries (dedupe_key, kind, dag_id, dag_version_id, callback_list, callback_index, channel, message, state, task_instance_id)
    VALUES ('task_failed:7:1:onFailure:0', 'task_failed', 'd', 1, 'onFailure', 0, 'pagerduty', '{"incidentKey": "task_failed:ti:7", "summary": "t failed on try 1"}', 'delivered', 7),
           ('task_failed:7:2:onFailure:0', 'task_failed', 'd', 1, 'onFailure', 0, 'pagerduty', '{"incidentKey": "task_failed:ti:7", "summary": "t failed on try 2"}', 'pending', 7)`);
  await c.query(`SET session_replication_role = origin`);
});

const resolves = async () =>
  (await c.query(`SELECT dedupe_key FROM alert_deliveries WHERE message ->> 'action' = 'resolve' ORDER BY id`)).rows.map((r) => r.dedupe_key);
const open = async () =>
  (await c.query(`SELECT dedupe_key FROM alert_deliveries WHERE message ? 'incidentKey' AND NOT (message ? 'action') AND resolved_at IS NULL ORDER BY id`)).rows.map((r) => r.dedupe_key);

describe('PagerDuty resolves', () => {
  it('wait until every trigger of the incident is out, then resolve it once', async () => {
    expect(await repo.recordResolutions(c, new Date())).toBe(0);
    expect(await resolves()).toEqual([]);
    expect(await open()).toEqual(['task_failed:7:1:onFailure:0', 'task_failed:7:2:onFailure:0']);

    await c.query(`UPDATE alert_deliveries SET state = 'delivered' WHERE dedupe_key = 'task_failed:7:2:onFailure:0'`);
    expect(await repo.recordResolutions(c, new Date())).toBe(1);
    expect(await resolves()).toEqual(['resolve:task_failed:ti:7:onFailure:0:3']);
    expect(await open()).toEqual([]);
    expect(await repo.recordResolutions(c, new Date())).toBe(0);
  });

  it('resolve a trigger given up on (failed) like one delivered', async () => {
    await c.query(`SET session_replication_role = replica`);
    await c.query(`INSERT INTO dag_runs (id, dag_id, run_id, dag_version_id, run_type, state, logical_date, data_interval_start, data_interval_end, run_after, clear_number)
      VALUES (9, 'd', 'r9', 1, 'manual', 'success', now(), now(), now(), now(), 1)`);
    await c.query(`INSERT INTO alert_deliveries (dedupe_key, kind, dag_id, dag_version_id, callback_list, callback_index, channel, message, state, dag_run_id)
      VALUES ('run_failed:9:0:onFailure:0', 'run_failed', 'd', 1, 'onFailure', 0, 'pagerduty', '{"incidentKey": "run_failed:run:9", "summary": "run r9 failed"}', 'failed', 9)`);
    await c.query(`SET session_replication_role = origin`);
    expect(await repo.recordResolutions(c, new Date())).toBe(1);
    expect((await resolves()).at(-1)).toBe('resolve:run_failed:run:9:onFailure:0:1');
    expect(await open()).toEqual([]);
  });
});
