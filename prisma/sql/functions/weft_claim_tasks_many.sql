CREATE OR REPLACE FUNCTION public.weft_claim_tasks_many(p_worker_ids text[], p_queues text[], p_task_types text[], p_capacities integer[], p_lease_ttl_sec integer, p_api_key_ids uuid[], p_hostnames text[], p_now timestamp with time zone)
 RETURNS TABLE(requester integer, lease_id uuid, task_instance_id integer, dag_run_id integer, dag_id text, run_id text, task_id text, task_type text, queue text, try_number integer, max_tries integer, queued_at timestamp with time zone, lease_expires_at timestamp with time zone, deadline_at timestamp with time zone, dag_version_id integer, logical_date timestamp with time zone, data_interval_start timestamp with time zone, data_interval_end timestamp with time zone, conf jsonb, blocked boolean)
 LANGUAGE plpgsql
AS $function$
#variable_conflict use_column
DECLARE
  -- Group commit: the lease requests of one queue set (same queues and task types) waiting in one process, served
  -- by one claim of their total capacity. Requester r (1-based, in the order given: longest waiting first) gets
  -- the next p_capacities[r] tasks in claim order; its worker, API key and hostname go into its leases and tries.
  -- Pools and maxActiveTasks are enforced for the claim as a whole, under the same locks as a single request's.
  p_capacity CONSTANT int := (SELECT coalesce(sum(c), 0)::int FROM unnest(p_capacities) AS c);
  v_owner int[];
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
    -- Nothing claimed; `blocked` tells the callers whether limits held queued work back.
    RETURN QUERY SELECT NULL::int, NULL::uuid, NULL::int, NULL::int, NULL::text, NULL::text, NULL::text, NULL::text,
      NULL::text, NULL::int, NULL::int, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, NULL::int,
      NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, NULL::jsonb, v_blocked
      WHERE v_blocked;
    RETURN;
  END IF;

  IF cardinality(p_capacities) = 1 THEN
    v_owner := array_fill(1, ARRAY[cardinality(v_chosen)]);
  ELSE
    -- Hand out in claim order: the chosen tasks sorted (they are locked), and requester r owning its next
    -- p_capacities[r] of them.
    v_chosen := ARRAY(SELECT ti.id FROM task_instances ti WHERE ti.id = ANY (v_chosen)
                      ORDER BY ti.priority_weight DESC, ti.logical_date, ti.id);
    v_owner := (ARRAY(SELECT c.r FROM unnest(p_capacities) WITH ORDINALITY AS c(n, r)
                      CROSS JOIN LATERAL generate_series(1, c.n) ORDER BY c.r))[1:cardinality(v_chosen)];
  END IF;

  -- The worker rows are refreshed at most once a second (what GET /workers shows; leases refer to them): one per
  -- requester that got a task (a worker with two requests in the batch: its first).
  INSERT INTO workers AS w (id, hostname, queues, task_types, capacity, last_seen)
  SELECT DISTINCT ON (x.worker_id) x.worker_id, x.hostname, p_queues, coalesce(p_task_types, '{}'), x.capacity, p_now
    FROM unnest(p_worker_ids, p_hostnames, p_capacities) WITH ORDINALITY AS x(worker_id, hostname, capacity, r)
   WHERE x.r <= v_owner[cardinality(v_owner)]
   ORDER BY x.worker_id, x.r
  ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, queues = EXCLUDED.queues,
    task_types = EXCLUDED.task_types, capacity = EXCLUDED.capacity, last_seen = EXCLUDED.last_seen
  WHERE w.last_seen < EXCLUDED.last_seen - interval '1 second'
     OR (w.hostname, w.queues, w.task_types, w.capacity) IS DISTINCT FROM
        (EXCLUDED.hostname, EXCLUDED.queues, EXCLUDED.task_types, EXCLUDED.capacity);

  RETURN QUERY
  WITH owners AS (
    SELECT o.ti_id, o.r FROM unnest(v_chosen, v_owner) AS o(ti_id, r)),
  started AS (
    UPDATE task_instances ti SET state = 'running', try_number = ti.try_number + 1, start_date = p_now,
      end_date = NULL, updated_at = p_now, last_error = NULL
    FROM dag_runs r
    WHERE ti.id = ANY (v_chosen) AND r.id = ti.dag_run_id
    RETURNING ti.id, ti.dag_run_id, ti.dag_id, ti.run_id, ti.task_id, ti.task_type, ti.queue, ti.pool, ti.pool_slots,
      ti.try_number, ti.max_tries, ti.queued_at, ti.execution_timeout_sec, ti.priority_weight,
      ti.logical_date AS ti_logical_date, r.dag_version_id, r.logical_date, r.data_interval_start,
      r.data_interval_end, r.conf),
  owned AS (
    SELECT s.*, o.r AS owner FROM started s JOIN owners o ON o.ti_id = s.id),
  leased AS (
    INSERT INTO leases (id, task_instance_id, try_number, worker_id, api_key_id, queue, pool, pool_slots, acquired_at,
      heartbeat_at, expires_at, deadline_at)
    SELECT gen_random_uuid(), s.id, s.try_number, p_worker_ids[s.owner], p_api_key_ids[s.owner], s.queue, s.pool,
      s.pool_slots, p_now, p_now,
      p_now + make_interval(secs => p_lease_ttl_sec),
      p_now + make_interval(secs => s.execution_timeout_sec)
    FROM owned s
    RETURNING id, task_instance_id, expires_at, deadline_at),
  tried AS (
    INSERT INTO task_instance_tries (task_instance_id, try_number, state, worker_id, hostname, lease_id, start_date)
    SELECT s.id, s.try_number, 'running', p_worker_ids[s.owner], p_hostnames[s.owner], l.id, p_now
    FROM owned s JOIN leased l ON l.task_instance_id = s.id)
  SELECT s.owner, l.id, s.id, s.dag_run_id, s.dag_id, s.run_id, s.task_id, s.task_type, s.queue, s.try_number,
    s.max_tries, s.queued_at, l.expires_at, l.deadline_at, s.dag_version_id, s.logical_date, s.data_interval_start,
    s.data_interval_end, s.conf, v_blocked
  FROM owned s JOIN leased l ON l.task_instance_id = s.id
  ORDER BY s.owner, s.priority_weight DESC, s.ti_logical_date, s.id;
END
$function$;
