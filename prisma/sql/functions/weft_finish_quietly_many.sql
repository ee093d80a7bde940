CREATE OR REPLACE FUNCTION public.weft_finish_quietly_many(p_lease_ids uuid[], p_callers uuid[], p_tries integer[], p_to "TaskState"[], p_at timestamp with time zone[], p_errors text[], p_retry_at timestamp with time zone[], p_hashes text[], p_unfinished "TaskState"[], p_channel text, p_slot_freed text)
 RETURNS TABLE(ord bigint, outcome text, run_state "RunState", dag_id text, start_date timestamp with time zone, worker_id text, worker_queues text[], worker_task_types text[])
 LANGUAGE plpgsql
AS $function$
-- Group commit of quiet completions, set-based: the completions of a batch (item i: lease p_lease_ids[i], and so
-- on) end in one UPDATE of task_instances (so one run of its events trigger), one UPDATE of task_instance_tries and
-- one DELETE of leases for the whole batch, with an outcome per item:
--   done       the attempt ended as asked;
--   stale      no live lease by that id, its attempt is not the running one, not try p_tries[i], or the lease's second
--              appearance in the batch (its first decides);
--   forbidden  the lease belongs to another API key;
--   evaluate   a success that may end its run: no other task of the run is unfinished once the successes before it
--              in the batch (same run, in item order) have ended, as one-by-one completion in item order would find;
--              nothing is written for it, and the caller completes it in a transaction that evaluates the run.
-- One call is one completion too (the service's completions go through here, alone or in batches).
-- Plans: every statement up to the writes reads or writes rows by key, a few per item, and runs with its one generic
-- plan kept per connection (planned per call, as the plan cache does for array parameters, they cost more than the
-- batch's writes). So that no generic plan can be one made while a table was small that goes on scanning it whole as
-- it grows (as weft_end_attempt's try update once did), they are written to have no join for the planner to choose:
-- each table is reached by key from the item (LATERAL ... OFFSET 0, = ANY) with sequential scans off, so the only
-- plans are index lookups. Those settings (and no JIT) are set for steps 1 to 3 and put back after them. The only
-- other code that runs under them is the events trigger of task_instances (step 3): it reads its transition tables,
-- which those settings do not touch, and weft_events_announce reads event_listeners by an index scan instead of a
-- sequential one, with no JIT. Anything else that calls a function or fires a trigger belongs after step 3: a plan
-- cached under these settings keeps their choices wherever it is used later.
#variable_conflict use_column
DECLARE
  v_saved text[] := ARRAY[current_setting('enable_seqscan'), current_setting('plan_cache_mode'), current_setting('jit')];
  v_lock_runs int[];
  v_lock_tis int[];
  v_lock_leases uuid[];
  v_ord bigint[];
  v_outcome text[];
  v_lease uuid[];
  v_ti int[];
  v_try int[];
  v_to "TaskState"[];
  v_at timestamptz[];
  v_error text[];
  v_retry_at timestamptz[];
  v_hash text[];
  v_run_state "RunState"[];
  v_dag text[];
  v_start timestamptz[];
  v_worker text[];
  v_pools text[];
  v_dags text[];
BEGIN
  IF EXISTS (SELECT 1 FROM unnest(p_to) AS t(s) WHERE t.s NOT IN ('success', 'up_for_retry')) THEN
    RAISE EXCEPTION 'weft_finish_quietly_many: only success and up_for_retry end without an evaluation';
  END IF;
  PERFORM set_config('enable_seqscan', 'off', true), set_config('plan_cache_mode', 'force_generic_plan', true),
    set_config('jit', 'off', true);
  -- 1. Lock every run, task instance and lease of the batch, in run order, each run before its task instances and
  -- each task instance before its lease (the order every completion path and every other batch takes them in),
  -- before anything is read to decide.
  SELECT array_agg(k.run_id ORDER BY k.run_id, k.ti_id), array_agg(k.ti_id ORDER BY k.run_id, k.ti_id),
         array_agg(k.lease_id ORDER BY k.run_id, k.ti_id)
    INTO v_lock_runs, v_lock_tis, v_lock_leases
    FROM (SELECT ti.dag_run_id AS run_id, ti.id AS ti_id, l.id AS lease_id
            FROM unnest(p_lease_ids) AS i(lease_id)
            CROSS JOIN LATERAL (SELECT l.id, l.task_instance_id FROM leases l WHERE l.id = i.lease_id OFFSET 0) l
            CROSS JOIN LATERAL (SELECT ti.id, ti.dag_run_id FROM task_instances ti WHERE ti.id = l.task_instance_id OFFSET 0) ti) k;
  PERFORM 1
     FROM unnest(v_lock_runs, v_lock_tis, v_lock_leases) AS k(run_id, ti_id, lease_id)
     CROSS JOIN LATERAL (SELECT 1 FROM dag_runs r WHERE r.id = k.run_id FOR UPDATE) r
     CROSS JOIN LATERAL (SELECT 1 FROM task_instances ti WHERE ti.id = k.ti_id FOR UPDATE) ti
     CROSS JOIN LATERAL (SELECT 1 FROM leases l WHERE l.id = k.lease_id FOR UPDATE) l;
  -- 2. Decide each item. A statement of its own, so its snapshot sees whatever committed before those locks were
  -- granted (a completion of another task of the same run, say).
  WITH i AS (
    SELECT * FROM unnest(p_lease_ids, p_callers, p_tries, p_to, p_at, p_errors, p_retry_at, p_hashes)
      WITH ORDINALITY AS i(lease_id, caller, try_number, to_state, at, error, retry_at, hash, ord)),
  cur AS (
    SELECT i.*, l.id AS live, l.try_number AS lease_try, l.api_key_id, l.worker_id, ti.id AS ti_id, ti.state AS ti_state,
           ti.try_number AS ti_try, ti.start_date, ti.dag_id, r.id AS run_id, r.state AS run_state,
           row_number() OVER (PARTITION BY i.lease_id ORDER BY i.ord) AS nth
      FROM i
      LEFT JOIN LATERAL (
        SELECT l.id, l.try_number, l.api_key_id, l.worker_id, l.task_instance_id FROM leases l WHERE l.id = i.lease_id
        OFFSET 0) l ON true
      LEFT JOIN LATERAL (
        SELECT ti.id, ti.state, ti.try_number, ti.start_date, ti.dag_id, ti.dag_run_id FROM task_instances ti
         WHERE ti.id = l.task_instance_id OFFSET 0) ti ON true
      LEFT JOIN LATERAL (SELECT r.id, r.state FROM dag_runs r WHERE r.id = ti.dag_run_id OFFSET 0) r ON true),
  valid AS (
    SELECT c.*, CASE
        WHEN c.live IS NULL OR c.nth > 1 OR c.ti_state <> 'running' OR c.ti_try <> c.lease_try
          OR c.ti_try <> c.try_number THEN 'stale'
        WHEN c.api_key_id IS NOT NULL AND c.caller IS NOT NULL AND c.api_key_id <> c.caller THEN 'forbidden'
        END AS refused
      FROM cur c),
  ordered AS (
    SELECT v.*, count(*) FILTER (WHERE v.refused IS NULL AND v.to_state = 'success')
             OVER (PARTITION BY v.run_id ORDER BY v.ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS ended_before
      FROM valid v),
  judged AS (
    SELECT o.*, CASE
        WHEN o.refused IS NOT NULL THEN o.refused
        WHEN o.to_state = 'success' AND (
            SELECT count(*) FROM (
              SELECT 1 FROM task_instances u WHERE u.dag_run_id = o.run_id AND u.state = ANY (p_unfinished) AND u.id <> o.ti_id
               LIMIT o.ended_before + 1) z) <= o.ended_before
          THEN 'evaluate'
        ELSE 'done' END AS outcome
      FROM ordered o)
  SELECT array_agg(j.ord ORDER BY j.ord), array_agg(j.outcome ORDER BY j.ord),
         array_agg(j.run_state ORDER BY j.ord), array_agg(j.dag_id ORDER BY j.ord),
         array_agg(j.start_date ORDER BY j.ord), array_agg(j.worker_id ORDER BY j.ord),
         array_agg(j.lease_id) FILTER (WHERE j.outcome = 'done'), array_agg(j.ti_id) FILTER (WHERE j.outcome = 'done'),
         array_agg(j.ti_try) FILTER (WHERE j.outcome = 'done'), array_agg(j.to_state) FILTER (WHERE j.outcome = 'done'),
         array_agg(j.at) FILTER (WHERE j.outcome = 'done'), array_agg(j.error) FILTER (WHERE j.outcome = 'done'),
         array_agg(j.retry_at) FILTER (WHERE j.outcome = 'done'), array_agg(j.hash) FILTER (WHERE j.outcome = 'done'),
         array_agg(DISTINCT j.dag_id) FILTER (WHERE j.outcome = 'done')
    INTO v_ord, v_outcome, v_run_state, v_dag, v_start, v_worker, v_lease, v_ti, v_try, v_to, v_at, v_error, v_retry_at,
         v_hash, v_dags
    FROM judged j;
  -- 3. Write the batch: one statement per table, each row found by key and given its item's values (v_ti holds no
  -- task instance twice: each has one live lease).
  IF v_lease IS NOT NULL THEN
    UPDATE task_instances t
       SET state = v_to[array_position(v_ti, t.id)], end_date = v_at[array_position(v_ti, t.id)],
           updated_at = v_at[array_position(v_ti, t.id)], next_retry_at = v_retry_at[array_position(v_ti, t.id)],
           last_error = v_error[array_position(v_ti, t.id)]
     WHERE t.id = ANY (v_ti);
    UPDATE task_instance_tries y
       SET state = v_to[array_position(v_ti, y.task_instance_id)], end_date = v_at[array_position(v_ti, y.task_instance_id)],
           error = v_error[array_position(v_ti, y.task_instance_id)],
           completion_hash = coalesce(v_hash[array_position(v_ti, y.task_instance_id)], y.completion_hash)
     WHERE y.task_instance_id = ANY (v_ti) AND y.try_number = v_try[array_position(v_ti, y.task_instance_id)];
    WITH d AS (DELETE FROM leases l WHERE l.id = ANY (v_lease) RETURNING l.pool)
    SELECT array_agg(DISTINCT d.pool) INTO v_pools FROM d;
  END IF;
  PERFORM set_config('enable_seqscan', v_saved[1], true), set_config('plan_cache_mode', v_saved[2], true),
    set_config('jit', v_saved[3], true);
  -- 4. Wake requests a limit held back when the batch freed slots of a pool or DAG near its limit with work queued
  -- (as weft_end_attempt does for one attempt).
  IF EXISTS (SELECT 1 FROM unnest(v_pools) AS f(pool) WHERE weft_pool_near_limit(f.pool))
  OR EXISTS (SELECT 1 FROM unnest(v_dags) AS f(dag) WHERE weft_dag_near_limit(f.dag)) THEN
    PERFORM pg_notify(p_channel, p_slot_freed);
  END IF;
  RETURN QUERY
    SELECT x.ord, x.outcome,
           CASE WHEN x.outcome = 'done' THEN x.run_state END, CASE WHEN x.outcome = 'done' THEN x.dag_id END,
           CASE WHEN x.outcome = 'done' THEN x.start_date END, CASE WHEN x.outcome = 'done' THEN x.worker_id END,
           w.queues, w.task_types
      FROM unnest(v_ord, v_outcome, v_run_state, v_dag, v_start, v_worker)
             AS x(ord, outcome, run_state, dag_id, start_date, worker_id)
      LEFT JOIN workers w ON w.id = x.worker_id AND x.outcome = 'done'
     ORDER BY x.ord;
END
$function$;
