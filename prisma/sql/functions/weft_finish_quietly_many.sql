CREATE OR REPLACE FUNCTION public.weft_finish_quietly_many(p_lease_ids uuid[], p_callers uuid[], p_tries integer[], p_to "TaskState"[], p_at timestamp with time zone[], p_errors text[], p_retry_at timestamp with time zone[], p_hashes text[], p_unfinished "TaskState"[], p_channel text, p_slot_freed text)
 RETURNS TABLE(ord bigint, outcome text, run_state "RunState", dag_id text, start_date timestamp with time zone, worker_id text, worker_queues text[], worker_task_types text[])
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
 SET enable_hashjoin TO 'off'
 SET enable_mergejoin TO 'off'
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
-- Group commit of quiet completions, set-based: the completions of a batch (item i: lease p_lease_ids[i], and so
-- on) end in one UPDATE of task_instances (so one run of its events trigger), one UPDATE of task_instance_tries and
-- one DELETE of leases for the whole batch, with an outcome per item as weft_finish_quietly gives one:
--   done       the attempt ended as asked;
--   stale      no live lease by that id, its attempt is not the running one, not try p_tries[i], or the lease's second
--              appearance in the batch (its first decides);
--   forbidden  the lease belongs to another API key;
--   evaluate   a success that may end its run: no other task of the run is unfinished once the successes before it
--              in the batch (same run, in item order) have ended, as one-by-one completion in item order would find;
--              nothing is written for it, and the caller completes it in a transaction that evaluates the run.
-- One call is one completion too (the service's completions go through here, alone or in batches).
-- Plans: every statement reads and writes rows by key, a few per item, so the function forces index scans joined by
-- nested loops (the SET clauses) and keeps one generic plan per statement for the connection: a plan made while a
-- table was small can then not go on scanning it whole as it grows (as weft_end_attempt's try update once did),
-- and no call pays for planning (measured: planning each call cost more than the batch's writes).
#variable_conflict use_column
DECLARE
  k_margin CONSTANT int := weft_limit_tickets() * weft_limit_ticket_budget();
  v_ord bigint[];
  v_outcome text[];
  v_run_state "RunState"[];
  v_dag text[];
  v_start timestamptz[];
  v_worker text[];
  v_pools text[];
  v_dags text[];
  v_key text;
  v_freed boolean := false;
BEGIN
  IF EXISTS (SELECT 1 FROM unnest(p_to) AS t(s) WHERE t.s NOT IN ('success', 'up_for_retry')) THEN
    RAISE EXCEPTION 'weft_finish_quietly_many: only success and up_for_retry end without an evaluation';
  END IF;
  -- 1. Lock every run, task instance and lease of the batch, in run order (the order every completion path and
  -- every other batch takes them in), before anything is read to decide.
  PERFORM count(*) FROM (
      SELECT 1 FROM unnest(p_lease_ids) AS i(lease_id)
        JOIN leases l ON l.id = i.lease_id
        JOIN task_instances ti ON ti.id = l.task_instance_id
        JOIN dag_runs r ON r.id = ti.dag_run_id
       ORDER BY r.id, ti.id FOR UPDATE OF r, ti, l) s;
  -- 2. Decide each item and write the batch. A statement of its own, so its snapshot sees whatever committed before
  -- those locks were granted (a completion of another task of the same run, say).

    WITH i AS (
      SELECT * FROM unnest(p_lease_ids::uuid[], p_callers::uuid[], p_tries::int[], p_to::"TaskState"[], p_at::timestamptz[], p_errors::text[],
          p_retry_at::timestamptz[], p_hashes::text[])
        WITH ORDINALITY AS i(lease_id, caller, try_number, to_state, at, error, retry_at, hash, ord)),
    cur AS (
      SELECT i.*, l.id AS live, l.try_number AS lease_try, l.api_key_id, l.worker_id, ti.id AS ti_id, ti.state AS ti_state,
             ti.try_number AS ti_try, ti.start_date, ti.dag_id, r.id AS run_id, r.state AS run_state,
             row_number() OVER (PARTITION BY i.lease_id ORDER BY i.ord) AS nth
        FROM i
        LEFT JOIN leases l ON l.id = i.lease_id
        LEFT JOIN task_instances ti ON ti.id = l.task_instance_id
        LEFT JOIN dag_runs r ON r.id = ti.dag_run_id),
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
        FROM ordered o),
    ended AS (
      UPDATE task_instances t SET state = j.to_state, end_date = j.at, updated_at = j.at, next_retry_at = j.retry_at,
             last_error = j.error
        FROM judged j
       WHERE j.outcome = 'done' AND t.id = j.ti_id),
    tried AS (
      UPDATE task_instance_tries y SET state = j.to_state, end_date = j.at, error = j.error,
             completion_hash = coalesce(j.hash, y.completion_hash)
        FROM judged j
       WHERE j.outcome = 'done' AND y.task_instance_id = j.ti_id AND y.try_number = j.ti_try),
    released AS (
      DELETE FROM leases l USING judged j
       WHERE j.outcome = 'done' AND l.id = j.lease_id
      RETURNING l.pool, j.dag_id)
    SELECT array_agg(j.ord ORDER BY j.ord), array_agg(j.outcome ORDER BY j.ord),
           array_agg(j.run_state ORDER BY j.ord), array_agg(j.dag_id ORDER BY j.ord),
           array_agg(j.start_date ORDER BY j.ord), array_agg(j.worker_id ORDER BY j.ord),
           (SELECT array_agg(DISTINCT d.pool) FROM released d), (SELECT array_agg(DISTINCT d.dag_id) FROM released d)
  INTO v_ord, v_outcome, v_run_state, v_dag, v_start, v_worker, v_pools, v_dags
      FROM judged j;
  -- 3. Wake requests a limit held back when an ended attempt leaves its pool or DAG near the limit with work queued
  -- (weft_end_attempt's rule, once for the batch).
  FOREACH v_key IN ARRAY coalesce(v_pools, '{}') LOOP
    EXIT WHEN v_freed;
    v_freed := weft_pool_slots_used(v_key) + k_margin >= (SELECT p.slots FROM pools p WHERE p.name = v_key)
       AND EXISTS (SELECT 1 FROM task_instances q WHERE q.state = 'queued' AND q.pool = v_key);
  END LOOP;
  FOREACH v_key IN ARRAY coalesce(v_dags, '{}') LOOP
    EXIT WHEN v_freed;
    v_freed := weft_dag_running_tasks(v_key) + k_margin >= (SELECT d.max_active_tasks FROM dags d WHERE d.dag_id = v_key)
       AND EXISTS (SELECT 1 FROM task_instances q WHERE q.state = 'queued' AND q.dag_id = v_key);
  END LOOP;
  IF v_freed THEN
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
