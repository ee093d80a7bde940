-- One definition per limit rule (issue 21.4). A pool's usage (the slots its leases hold, cancelled ones included until
-- their worker reports) and a DAG's maxActiveTasks usage (its running task instances) were written out in
-- weft_claim_tasks (twice each), weft_end_attempt and the pools and metrics reads; the claim's ticket constants and
-- the freed-slot margin derived from them (4 × 16 = 64) in weft_claim_tasks and weft_end_attempt. Now each is one
-- function, and those two functions are restated from their prisma/sql copies to call them.

-- The slots a pool's leases hold.
CREATE FUNCTION weft_pool_slots_used(p_pool text) RETURNS integer LANGUAGE sql STABLE
AS $function$
  SELECT coalesce(sum(l.pool_slots), 0)::int FROM leases l WHERE l.pool = p_pool
$function$;

-- The task instances of a DAG that count against its maxActiveTasks.
CREATE FUNCTION weft_dag_running_tasks(p_dag_id text) RETURNS integer LANGUAGE sql STABLE
AS $function$
  SELECT count(*)::int FROM task_instances r WHERE r.dag_id = p_dag_id AND r.state = 'running'
$function$;

-- weft_claim_tasks' advisory-lock tickets per limit, and the slots one ticket holder may take at once: a limit with
-- more room than their product (the margin) is claimed without tickets, and an ending attempt announces a freed slot
-- (weft_end_attempt) only within that margin of a limit.
CREATE FUNCTION weft_limit_tickets() RETURNS integer LANGUAGE sql IMMUTABLE AS $function$ SELECT 4 $function$;
CREATE FUNCTION weft_limit_ticket_budget() RETURNS integer LANGUAGE sql IMMUTABLE AS $function$ SELECT 16 $function$;

CREATE OR REPLACE FUNCTION weft_claim_tasks(p_worker_id text, p_queues text[], p_task_types text[], p_capacity integer, p_lease_ttl_sec integer, p_api_key_id uuid, p_hostname text, p_now timestamp with time zone)
 RETURNS TABLE(lease_id uuid, task_instance_id integer, dag_run_id integer, dag_id text, run_id text, task_id text, task_type text, queue text, try_number integer, max_tries integer, queued_at timestamp with time zone, lease_expires_at timestamp with time zone, deadline_at timestamp with time zone, dag_version_id integer, logical_date timestamp with time zone, data_interval_start timestamp with time zone, data_interval_end timestamp with time zone, conf jsonb, blocked boolean)
 LANGUAGE plpgsql
AS $function$
#variable_conflict use_column
DECLARE
  k_tickets CONSTANT int := weft_limit_tickets();
  k_budget CONSTANT int := weft_limit_ticket_budget();
  v_queues text[] := ARRAY(SELECT DISTINCT unnest(p_queues));
  v_seen int[] := '{}';
  v_chosen int[] := '{}';
  v_blocked boolean := false;
  v_pass_blocked boolean;
  v_blocked_pools text[] := '{}';
  v_blocked_dags text[] := '{}';
  -- Limit keys handled so far: 'dag:<dag id>' or 'pool:<pool name>', with limit, usage, what this claim took, mode
  -- ('exact', 'shared', or 'none' when unavailable: missing pool or DAG, or a lock not taken in a later pass).
  v_keys text[] := '{}';
  v_limit int[] := '{}';
  v_used int[] := '{}';
  v_taken int[] := '{}';
  v_mode text[] := '{}';
  v_ids int[]; v_dags text[]; v_pools text[]; v_slots int[];
  v_new text[]; v_est int[]; v_lim int[]; v_want int[];
  v_key text; v_i int; v_j int; v_p int; v_d int; v_t int; v_ok boolean;
  v_pass int := 0;
  v_room int;
BEGIN
  WHILE cardinality(v_chosen) < p_capacity AND v_pass < 3 LOOP
    v_pass := v_pass + 1;
    -- Candidates in claim order (one index range per queue, merged), skipping what an earlier pass saw and keys it
    -- found full.
    SELECT coalesce(array_agg(c.id ORDER BY c.priority_weight DESC, c.logical_date, c.id), '{}'),
           array_agg(c.dag_id ORDER BY c.priority_weight DESC, c.logical_date, c.id),
           array_agg(c.pool ORDER BY c.priority_weight DESC, c.logical_date, c.id),
           array_agg(c.pool_slots ORDER BY c.priority_weight DESC, c.logical_date, c.id)
      INTO v_ids, v_dags, v_pools, v_slots
      FROM (SELECT c.* FROM unnest(v_queues) AS q(name)
            CROSS JOIN LATERAL (
              SELECT ti.id, ti.dag_id, ti.pool, ti.pool_slots, ti.priority_weight, ti.logical_date
              FROM task_instances ti
              WHERE ti.state = 'queued' AND ti.queue = q.name
                AND (p_task_types IS NULL OR ti.task_type = ANY (p_task_types))
                AND ti.id <> ALL (v_seen) AND ti.pool <> ALL (v_blocked_pools) AND ti.dag_id <> ALL (v_blocked_dags)
              ORDER BY ti.priority_weight DESC, ti.logical_date, ti.id
              LIMIT p_capacity - cardinality(v_chosen)
              FOR UPDATE SKIP LOCKED) c
            ORDER BY c.priority_weight DESC, c.logical_date, c.id
            LIMIT p_capacity - cardinality(v_chosen)) c;
    EXIT WHEN cardinality(v_ids) = 0;
    v_seen := v_seen || v_ids;
    v_pass_blocked := false;

    -- Limit keys not handled yet, in lock order, with their limit, what these candidates want of them and an
    -- unlocked estimate of their usage (which only chooses the mode).
    SELECT coalesce(array_agg(k.key ORDER BY k.key), '{}'), array_agg(k.lim ORDER BY k.key),
           array_agg(k.est ORDER BY k.key), array_agg(k.want ORDER BY k.key)
      INTO v_new, v_lim, v_est, v_want
      FROM (SELECT 'pool:' || w.pool AS key, p.slots AS lim, w.want,
                   weft_pool_slots_used(w.pool) AS est
            FROM (SELECT x.pool, sum(x.slots)::int AS want FROM unnest(v_pools, v_slots) AS x(pool, slots) GROUP BY x.pool) w
            LEFT JOIN pools p ON p.name = w.pool
            UNION ALL
            SELECT 'dag:' || w.dag_id, d.max_active_tasks, w.want,
                   weft_dag_running_tasks(w.dag_id)
            FROM (SELECT x.dag_id, count(*)::int AS want FROM unnest(v_dags) AS x(dag_id) GROUP BY x.dag_id) w
            LEFT JOIN dags d ON d.dag_id = w.dag_id) k
      WHERE k.key <> ALL (v_keys);

    FOR v_i IN 1 .. cardinality(v_new) LOOP
      v_key := v_new[v_i];
      v_keys := v_keys || v_key;
      v_limit := v_limit || coalesce(v_lim[v_i], 0);
      v_taken := v_taken || 0;
      v_used := v_used || 0;
      IF v_lim[v_i] IS NULL THEN
        v_mode := v_mode || 'none'::text; -- unknown pool (or a DAG deleted meanwhile): its tasks stay queued
      ELSIF v_want[v_i] <= k_budget AND v_est[v_i] + v_want[v_i] + k_tickets * k_budget <= v_lim[v_i] THEN
        -- Shared mode: any free ticket; wait for one (first pass only) when all are taken.
        v_ok := false;
        FOR v_t IN 0 .. k_tickets - 1 LOOP
          IF pg_try_advisory_xact_lock(hashtext('weft.limit:' || v_key), (pg_backend_pid() + v_t) % k_tickets) THEN
            v_ok := true;
            EXIT;
          END IF;
        END LOOP;
        IF NOT v_ok AND v_pass = 1 THEN
          PERFORM pg_advisory_xact_lock(hashtext('weft.limit:' || v_key), pg_backend_pid() % k_tickets);
          v_ok := true;
        END IF;
        v_mode := v_mode || CASE WHEN v_ok THEN 'shared' ELSE 'none' END;
      ELSE
        -- Exact mode: every ticket, in ascending order (try-locks after the first pass).
        v_ok := true;
        FOR v_t IN 0 .. k_tickets - 1 LOOP
          IF v_pass = 1 THEN
            PERFORM pg_advisory_xact_lock(hashtext('weft.limit:' || v_key), v_t);
          ELSIF NOT pg_try_advisory_xact_lock(hashtext('weft.limit:' || v_key), v_t) THEN
            v_ok := false;
            EXIT;
          END IF;
        END LOOP;
        v_mode := v_mode || CASE WHEN v_ok THEN 'exact' ELSE 'none' END;
      END IF;
    END LOOP;

    -- Usage and limit of the keys just locked, read after their locks (a new statement: a fresh snapshot; a pool
    -- resized or a DAG version changed meanwhile counts with its new limit).
    IF cardinality(v_new) > 0 THEN
      FOR v_key, v_room, v_t IN
        SELECT k.key,
          CASE WHEN k.key LIKE 'pool:%'
            THEN weft_pool_slots_used(substr(k.key, 6))
            ELSE weft_dag_running_tasks(substr(k.key, 5)) END,
          CASE WHEN k.key LIKE 'pool:%'
            THEN (SELECT p.slots FROM pools p WHERE p.name = substr(k.key, 6))
            ELSE (SELECT d.max_active_tasks FROM dags d WHERE d.dag_id = substr(k.key, 5)) END
        FROM unnest(v_new) AS k(key)
      LOOP
        v_j := array_position(v_keys, v_key);
        v_used[v_j] := v_room;
        v_limit[v_j] := coalesce(v_t, 0);
        IF v_t IS NULL THEN
          v_mode[v_j] := 'none';
        END IF;
      END LOOP;
    END IF;

    -- Take candidates in order while both of their keys have room (a task that does not fit is skipped, so a
    -- smaller one behind it may still go).
    FOR v_i IN 1 .. cardinality(v_ids) LOOP
      EXIT WHEN cardinality(v_chosen) >= p_capacity;
      v_p := array_position(v_keys, 'pool:' || v_pools[v_i]);
      v_d := array_position(v_keys, 'dag:' || v_dags[v_i]);
      v_ok := true;
      FOREACH v_j IN ARRAY ARRAY[v_p, v_d] LOOP
        v_t := CASE WHEN v_j = v_p THEN v_slots[v_i] ELSE 1 END;
        v_room := v_limit[v_j] - v_used[v_j] - v_taken[v_j]
          - CASE v_mode[v_j] WHEN 'shared' THEN (k_tickets - 1) * k_budget ELSE 0 END;
        IF v_mode[v_j] = 'none' OR v_room < v_t OR (v_mode[v_j] = 'shared' AND v_taken[v_j] + v_t > k_budget) THEN
          v_ok := false;
          IF v_j = v_p THEN v_blocked_pools := v_blocked_pools || v_pools[v_i];
          ELSE v_blocked_dags := v_blocked_dags || v_dags[v_i]; END IF;
        END IF;
      END LOOP;
      IF v_ok THEN
        v_chosen := v_chosen || v_ids[v_i];
        v_taken[v_p] := v_taken[v_p] + v_slots[v_i];
        v_taken[v_d] := v_taken[v_d] + 1;
      ELSE
        v_pass_blocked := true;
      END IF;
    END LOOP;
    v_blocked := v_blocked OR v_pass_blocked;
    EXIT WHEN NOT v_pass_blocked; -- nothing held back: the candidates ran out, or capacity is reached
  END LOOP;

  IF cardinality(v_chosen) = 0 THEN
    -- Nothing claimed; `blocked` tells the caller whether limits held queued work back.
    RETURN QUERY SELECT NULL::uuid, NULL::int, NULL::int, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text,
      NULL::int, NULL::int, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, NULL::int, NULL::timestamptz,
      NULL::timestamptz, NULL::timestamptz, NULL::jsonb, v_blocked
      WHERE v_blocked;
    RETURN;
  END IF;

  -- The worker row is refreshed at most once a second (it is what GET /workers shows; leases refer to it).
  INSERT INTO workers AS w (id, hostname, queues, task_types, capacity, last_seen)
  VALUES (p_worker_id, p_hostname, p_queues, coalesce(p_task_types, '{}'), p_capacity, p_now)
  ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, queues = EXCLUDED.queues,
    task_types = EXCLUDED.task_types, capacity = EXCLUDED.capacity, last_seen = EXCLUDED.last_seen
  WHERE w.last_seen < EXCLUDED.last_seen - interval '1 second'
     OR (w.hostname, w.queues, w.task_types, w.capacity) IS DISTINCT FROM
        (EXCLUDED.hostname, EXCLUDED.queues, EXCLUDED.task_types, EXCLUDED.capacity);

  RETURN QUERY
  WITH started AS (
    UPDATE task_instances ti SET state = 'running', try_number = ti.try_number + 1, start_date = p_now,
      end_date = NULL, updated_at = p_now, last_error = NULL
    FROM dag_runs r
    WHERE ti.id = ANY (v_chosen) AND r.id = ti.dag_run_id
    RETURNING ti.id, ti.dag_run_id, ti.dag_id, ti.run_id, ti.task_id, ti.task_type, ti.queue, ti.pool, ti.pool_slots,
      ti.try_number, ti.max_tries, ti.queued_at, ti.execution_timeout_sec, ti.priority_weight,
      ti.logical_date AS ti_logical_date, r.dag_version_id, r.logical_date, r.data_interval_start,
      r.data_interval_end, r.conf),
  leased AS (
    INSERT INTO leases (id, task_instance_id, try_number, worker_id, api_key_id, queue, pool, pool_slots, acquired_at,
      heartbeat_at, expires_at, deadline_at)
    SELECT gen_random_uuid(), s.id, s.try_number, p_worker_id, p_api_key_id, s.queue, s.pool, s.pool_slots, p_now, p_now,
      p_now + make_interval(secs => p_lease_ttl_sec),
      p_now + make_interval(secs => s.execution_timeout_sec)
    FROM started s
    RETURNING id, task_instance_id, expires_at, deadline_at),
  tried AS (
    INSERT INTO task_instance_tries (task_instance_id, try_number, state, worker_id, hostname, lease_id, start_date)
    SELECT s.id, s.try_number, 'running', p_worker_id, p_hostname, l.id, p_now
    FROM started s JOIN leased l ON l.task_instance_id = s.id)
  SELECT l.id, s.id, s.dag_run_id, s.dag_id, s.run_id, s.task_id, s.task_type, s.queue, s.try_number, s.max_tries,
    s.queued_at, l.expires_at, l.deadline_at, s.dag_version_id, s.logical_date, s.data_interval_start,
    s.data_interval_end, s.conf, v_blocked
  FROM started s JOIN leased l ON l.task_instance_id = s.id
  ORDER BY s.priority_weight DESC, s.ti_logical_date, s.id;
END
$function$;

CREATE OR REPLACE FUNCTION weft_end_attempt(p_ti_id integer, p_try_number integer, p_to "TaskState", p_now timestamp with time zone, p_error text, p_next_retry_at timestamp with time zone, p_lease_id uuid, p_completion_hash text, p_channel text, p_slot_freed text)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
DECLARE
  k_margin CONSTANT int := weft_limit_tickets() * weft_limit_ticket_budget();
  v_pool text;
  v_dag text;
BEGIN
  UPDATE task_instances SET state = p_to, end_date = p_now, updated_at = p_now, next_retry_at = p_next_retry_at,
    last_error = p_error
  WHERE id = p_ti_id
  RETURNING dag_id INTO v_dag;
  -- Planned on every call (EXECUTE), not from the function's cached plan: that plan is made once per connection,
  -- and one made while task_instance_tries was small (a new database, or just after a purge) scans the whole table;
  -- the table gains a row per attempt, so every completion then read all of them until the next auto-analyze.
  EXECUTE 'UPDATE task_instance_tries SET state = $3, end_date = $4, error = $5,
      completion_hash = coalesce($6, completion_hash)
    WHERE task_instance_id = $1 AND try_number = $2'
  USING p_ti_id, p_try_number, p_to, p_now, p_error, p_completion_hash;
  IF p_lease_id IS NULL THEN
    RETURN;
  END IF;
  DELETE FROM leases WHERE id = p_lease_id RETURNING pool INTO v_pool;
  IF v_pool IS NULL THEN
    RETURN;
  END IF;
  IF (weft_pool_slots_used(v_pool) + k_margin
        >= (SELECT p.slots FROM pools p WHERE p.name = v_pool)
      AND EXISTS (SELECT 1 FROM task_instances q WHERE q.state = 'queued' AND q.pool = v_pool))
  OR (weft_dag_running_tasks(v_dag) + k_margin
        >= (SELECT d.max_active_tasks FROM dags d WHERE d.dag_id = v_dag)
      AND EXISTS (SELECT 1 FROM task_instances q WHERE q.state = 'queued' AND q.dag_id = v_dag)) THEN
    PERFORM pg_notify(p_channel, p_slot_freed);
  END IF;
END
$function$;
