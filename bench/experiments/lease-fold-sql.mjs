#!/usr/bin/env node
// Issue 22's "fold the lease into the task instance", as an experiment for bench/probe-pg-cost.mjs --sql: prints SQL
// that gives task_instances the lease's columns (id, worker, API key, heartbeat, expiry, deadline) and replaces the
// claim (weft_claim_tasks_many) and the quiet completion (weft_finish_quietly_many) with copies that write those
// columns instead of inserting and deleting a leases row. The copies are derived from the current functions in
// prisma/sql/functions (each replacement is checked to apply), so the figures compare the same code but for the lease.
// The lease id carries its task instance's id in its first 8 hex digits, so the completion finds the task instance by
// its primary key with no new index; pool usage counts running task instances by a partial index on (pool).
// What it leaves out (the probe does not exercise them): heartbeats, the reaper, cancellation, the workers listing,
// and a cancelled attempt that keeps its pool slots while its task instance is queued again.
//
//   node bench/experiments/lease-fold-sql.mjs > /tmp/fold.sql
//   node bench/probe-pg-cost.mjs --n=1500 --analyze [--group=10] --sql=/tmp/fold.sql    (and without --sql)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FUNCTIONS = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../prisma/sql/functions');
const read = (name) => fs.readFileSync(path.join(FUNCTIONS, `${name}.sql`), 'utf8');
const replace = (text, from, to) => {
  if (!text.includes(from)) throw new Error(`the function changed: cannot find\n${from}`);
  return text.replace(from, () => to);
};

// The claim: the same function up to its final RETURN QUERY, which sets the lease on the task instance.
let claim = read('weft_claim_tasks_many');
const head = claim.slice(0, claim.indexOf('  RETURN QUERY\n  WITH owners AS'));
if (head.length === claim.length) throw new Error('the claim changed: no final RETURN QUERY WITH owners');
claim = `${head}  RETURN QUERY
  WITH owners AS (
    SELECT o.ti_id, o.r FROM unnest(v_chosen, v_owner) AS o(ti_id, r)),
  started AS (
    UPDATE task_instances ti SET state = 'running', try_number = ti.try_number + 1, start_date = p_now,
      end_date = NULL, updated_at = p_now, last_error = NULL,
      lease_id = (lpad(to_hex(ti.id), 8, '0') || substr(gen_random_uuid()::text, 9))::uuid,
      lease_worker_id = p_worker_ids[o.r], lease_api_key_id = p_api_key_ids[o.r],
      lease_heartbeat_at = p_now, lease_expires_at = p_now + make_interval(secs => p_lease_ttl_sec),
      lease_deadline_at = p_now + make_interval(secs => ti.execution_timeout_sec)
    FROM dag_runs r, owners o
    WHERE ti.id = ANY (v_chosen) AND r.id = ti.dag_run_id AND o.ti_id = ti.id
    RETURNING ti.id, ti.dag_run_id, ti.dag_id, ti.run_id, ti.task_id, ti.task_type, ti.queue, ti.pool, ti.pool_slots,
      ti.try_number, ti.max_tries, ti.queued_at, ti.execution_timeout_sec, ti.priority_weight,
      ti.logical_date AS ti_logical_date, r.dag_version_id, r.logical_date, r.data_interval_start,
      r.data_interval_end, r.conf, o.r AS owner, ti.lease_id, ti.lease_expires_at, ti.lease_deadline_at),
  tried AS (
    INSERT INTO task_instance_tries (task_instance_id, try_number, state, worker_id, hostname, lease_id, start_date)
    SELECT s.id, s.try_number, 'running', p_worker_ids[s.owner], p_hostnames[s.owner], s.lease_id, p_now
    FROM started s)
  SELECT s.owner, s.lease_id, s.id, s.dag_run_id, s.dag_id, s.run_id, s.task_id, s.task_type, s.queue, s.try_number,
    s.max_tries, s.queued_at, s.lease_expires_at, s.lease_deadline_at, s.dag_version_id, s.logical_date,
    s.data_interval_start, s.data_interval_end, s.conf, v_blocked
  FROM started s
  ORDER BY s.owner, s.priority_weight DESC, s.ti_logical_date, s.id;
END
$function$;
`;

// The completion: task instances found by the id inside the lease id, the lease checked on the row, no lease row.
const tiOf = (lease) => `('x' || substr(${lease}::text, 1, 8))::bit(32)::int`;
let finish = read('weft_finish_quietly_many');
finish = replace(finish,
  `            CROSS JOIN LATERAL (SELECT l.id, l.task_instance_id FROM leases l WHERE l.id = i.lease_id OFFSET 0) l
            CROSS JOIN LATERAL (SELECT ti.id, ti.dag_run_id FROM task_instances ti WHERE ti.id = l.task_instance_id OFFSET 0) ti) k;`,
  `            CROSS JOIN LATERAL (SELECT ti.id, ti.dag_run_id FROM task_instances ti WHERE ti.id = ${tiOf('i.lease_id')} OFFSET 0) ti) k;`);
finish = replace(finish, 'ti.id AS ti_id, l.id AS lease_id', 'ti.id AS ti_id, NULL::uuid AS lease_id');
finish = replace(finish,
  `     CROSS JOIN LATERAL (SELECT 1 FROM task_instances ti WHERE ti.id = k.ti_id FOR UPDATE) ti
     CROSS JOIN LATERAL (SELECT 1 FROM leases l WHERE l.id = k.lease_id FOR UPDATE) l;`,
  `     CROSS JOIN LATERAL (SELECT 1 FROM task_instances ti WHERE ti.id = k.ti_id FOR UPDATE) ti;`);
const lookupFrom = finish.indexOf('      LEFT JOIN LATERAL (\n        SELECT l.id, l.try_number');
const lookupTo = finish.indexOf('      LEFT JOIN LATERAL (SELECT r.id, r.state FROM dag_runs r');
if (lookupFrom < 0 || lookupTo < 0) throw new Error('the completion changed: no lease and task instance lookups');
finish = finish.slice(0, lookupFrom) + `      LEFT JOIN LATERAL (
        SELECT ti.id, ti.state, ti.try_number, ti.start_date, ti.dag_id, ti.dag_run_id, ti.lease_id, ti.lease_api_key_id,
               ti.lease_worker_id FROM task_instances ti
         WHERE ti.id = ${tiOf('i.lease_id')} OFFSET 0) ti ON true
` + finish.slice(lookupTo);
finish = replace(finish,
  'SELECT i.*, l.id AS live, l.try_number AS lease_try, l.api_key_id, l.worker_id, ti.id AS ti_id',
  'SELECT i.*, CASE WHEN ti.lease_id = i.lease_id THEN ti.lease_id END AS live, ti.try_number AS lease_try, ti.lease_api_key_id AS api_key_id, ti.lease_worker_id AS worker_id, ti.id AS ti_id');
finish = replace(finish,
  `           last_error = v_error[array_position(v_ti, t.id)]
     WHERE t.id = ANY (v_ti);`,
  `           last_error = v_error[array_position(v_ti, t.id)], lease_id = NULL, lease_worker_id = NULL,
           lease_api_key_id = NULL, lease_expires_at = NULL, lease_heartbeat_at = NULL, lease_deadline_at = NULL
     WHERE t.id = ANY (v_ti);`);
finish = replace(finish,
  `    WITH d AS (DELETE FROM leases l WHERE l.id = ANY (v_lease) RETURNING l.pool)
    SELECT array_agg(DISTINCT d.pool) INTO v_pools FROM d;`,
  '    SELECT array_agg(DISTINCT t.pool) INTO v_pools FROM task_instances t WHERE t.id = ANY (v_ti);');
if (/(FROM|JOIN|UPDATE|INTO) leases\b/.test(finish.split('$function$')[1])) throw new Error('the completion still reads or writes leases');

process.stdout.write(`-- generated by bench/experiments/lease-fold-sql.mjs
ALTER TABLE task_instances ADD COLUMN lease_id uuid, ADD COLUMN lease_worker_id text, ADD COLUMN lease_api_key_id uuid,
  ADD COLUMN lease_heartbeat_at timestamptz(3), ADD COLUMN lease_expires_at timestamptz(3),
  ADD COLUMN lease_deadline_at timestamptz(3);
CREATE INDEX task_instances_running_pool_idx ON task_instances (pool) WHERE state = 'running';
CREATE OR REPLACE FUNCTION public.weft_pool_slots_used(p_pool text) RETURNS integer LANGUAGE plpgsql STABLE AS $f$
BEGIN
  RETURN (SELECT coalesce(sum(t.pool_slots), 0)::int FROM task_instances t WHERE t.pool = p_pool AND t.state = 'running');
END $f$;
${claim}
${finish}
`);
