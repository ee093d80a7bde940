-- The lease claim path (docs/performance.md): an index that serves the claim order directly, and the claim itself
-- as one function, so a claim is one round trip and one commit, whatever it has to check.

-- Queued work per queue, in claim order (priority, oldest logical date, creation). Partial: only queued rows are
-- in it, so it stays small however many finished task instances the table holds. Prisma's schema cannot express a
-- partial index; its migration diff leaves it alone (docs/database.md).
CREATE INDEX "task_instances_queued_claim_idx" ON "task_instances" ("queue", "priority_weight" DESC, "logical_date", "id")
  WHERE "state" = 'queued';

-- Claims up to p_capacity queued task instances for one worker: moves them to running under new leases, records
-- the tries, and returns what rendering their tasks needs. Called as a single statement (autocommit): every SQL
-- statement inside gets a fresh snapshot, so counts taken after a lock see everything committed before it.
--
-- Concurrency:
-- - Candidates are locked FOR UPDATE SKIP LOCKED: concurrent claimers never take the same task and never wait for
--   each other's candidates.
-- - Limits (a pool's slots, a DAG's maxActiveTasks) are "limit keys", each guarded by k_tickets transaction-scoped
--   advisory locks (two-key form: hashtext('weft.limit:' || key), ticket number).
--   * exact mode: the claimer holds all tickets of the key, then counts its usage: no other claimer of that key is
--     in flight, so the count is exact and the limit is filled to its last slot;
--   * shared mode, for a key far from its limit: the claimer holds one ticket, then counts. At most k_tickets - 1
--     other claimers of the key are in flight at once (each holds a ticket from before its own count until its
--     commit), and each takes at most k_budget units of the key, so a claimer that leaves room for
--     (k_tickets - 1) * k_budget units beside its own never lets the key exceed its limit.
--   Keys are taken in one order (by key text: DAGs, then pools; tickets in ascending number) and only the first
--   pass waits; later passes use try-locks. So claimers cannot deadlock, and claimers of different pools or DAGs,
--   or of one pool far from full, do not wait for each other.
-- - A claim that holds work back because of a limit says so (`blocked`); its request then waits for a freed slot.
--   An ending attempt announces one (SLOT_FREED) only while its pool or DAG is within k_tickets * k_budget (64)
--   of its limit, the only place where a claim holds work back (weft_end_attempt, below).
-- - Lease rows exist only while an attempt is live, so a pool's usage is the sum of its leases' slots; a DAG's is
--   its running task instances.
CREATE FUNCTION weft_claim_tasks(
  p_worker_id text, p_queues text[], p_task_types text[], p_capacity int, p_lease_ttl_sec int,
  p_api_key_id uuid, p_hostname text, p_now timestamptz)
RETURNS TABLE (
  lease_id uuid, task_instance_id int, dag_run_id int, dag_id text, run_id text, task_id text, task_type text,
  queue text, try_number int, max_tries int, queued_at timestamptz, lease_expires_at timestamptz,
  deadline_at timestamptz, dag_version_id int, logical_date timestamptz, data_interval_start timestamptz,
  data_interval_end timestamptz, conf jsonb, blocked boolean)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  k_tickets CONSTANT int := 4;
  k_budget CONSTANT int := 16;
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
                   (SELECT coalesce(sum(l.pool_slots), 0) FROM leases l WHERE l.pool = w.pool)::int AS est
            FROM (SELECT x.pool, sum(x.slots)::int AS want FROM unnest(v_pools, v_slots) AS x(pool, slots) GROUP BY x.pool) w
            LEFT JOIN pools p ON p.name = w.pool
            UNION ALL
            SELECT 'dag:' || w.dag_id, d.max_active_tasks, w.want,
                   (SELECT count(*) FROM task_instances r WHERE r.dag_id = w.dag_id AND r.state = 'running')::int
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
            THEN (SELECT coalesce(sum(l.pool_slots), 0) FROM leases l WHERE l.pool = substr(k.key, 6))
            ELSE (SELECT count(*) FROM task_instances r WHERE r.dag_id = substr(k.key, 5) AND r.state = 'running') END::int,
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
$fn$;

-- The end of an attempt, as a completion or the reaper records it (the caller holds the run, task instance and
-- lease locks): the task instance and its try row get the outcome, and with p_lease_id that lease row goes, its
-- completion hash kept on the try. The freed pool and maxActiveTasks slot is announced (SLOT_FREED) only while the
-- pool or DAG is within k_tickets * k_budget (64, weft_claim_tasks) of its limit with work queued behind it: farther
-- from a limit no claim holds work back.
CREATE FUNCTION weft_end_attempt(
  p_ti_id int, p_try_number int, p_to "TaskState", p_now timestamptz, p_error text, p_next_retry_at timestamptz,
  p_lease_id uuid, p_completion_hash text, p_channel text, p_slot_freed text)
RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  k_margin CONSTANT int := 64;
  v_pool text;
  v_dag text;
BEGIN
  UPDATE task_instances SET state = p_to, end_date = p_now, updated_at = p_now, next_retry_at = p_next_retry_at,
    last_error = p_error
  WHERE id = p_ti_id
  RETURNING dag_id INTO v_dag;
  UPDATE task_instance_tries SET state = p_to, end_date = p_now, error = p_error,
    completion_hash = coalesce(p_completion_hash, completion_hash)
  WHERE task_instance_id = p_ti_id AND try_number = p_try_number;
  IF p_lease_id IS NULL THEN
    RETURN;
  END IF;
  DELETE FROM leases WHERE id = p_lease_id RETURNING pool INTO v_pool;
  IF v_pool IS NULL THEN
    RETURN;
  END IF;
  IF ((SELECT coalesce(sum(l.pool_slots), 0) FROM leases l WHERE l.pool = v_pool) + k_margin
        >= (SELECT p.slots FROM pools p WHERE p.name = v_pool)
      AND EXISTS (SELECT 1 FROM task_instances q WHERE q.state = 'queued' AND q.pool = v_pool))
  OR ((SELECT count(*) FROM task_instances r WHERE r.dag_id = v_dag AND r.state = 'running') + k_margin
        >= (SELECT d.max_active_tasks FROM dags d WHERE d.dag_id = v_dag)
      AND EXISTS (SELECT 1 FROM task_instances q WHERE q.state = 'queued' AND q.dag_id = v_dag)) THEN
    PERFORM pg_notify(p_channel, p_slot_freed);
  END IF;
END
$fn$;

-- A completion that needs no evaluation, in one call (autocommit): an attempt that succeeded on a task nothing
-- depends on, while another task of its run is still unfinished (so neither a downstream task nor the run's state
-- can change), or one that goes up for retry. The caller (LeasesService) knows the attempt from its own claim and
-- decides that the task qualifies; this function locks run, task instance and lease (the usual order), then checks
-- what only the database can tell, with a snapshot taken after the locks:
--   'stale'     the lease is gone or belongs to another try (the caller answers as for a repeated completion);
--   'forbidden' another API key took the lease (nothing written);
--   'evaluate'  no other task of the run is unfinished (p_unfinished lists the unfinished states): nothing written,
--               the caller completes in a transaction that evaluates the run;
--   'done'      the attempt ended (weft_end_attempt); the run's state, its DAG, when the attempt started and the
--               worker's subscription come back.
CREATE FUNCTION weft_finish_quietly(
  p_lease_id uuid, p_caller_key_id uuid, p_try_number int, p_to "TaskState", p_now timestamptz, p_error text,
  p_next_retry_at timestamptz, p_completion_hash text, p_unfinished "TaskState"[], p_channel text, p_slot_freed text)
RETURNS TABLE (outcome text, run_state "RunState", dag_id text, start_date timestamptz, worker_id text,
  worker_queues text[], worker_task_types text[])
LANGUAGE plpgsql AS $fn$
DECLARE
  v record;
BEGIN
  IF p_to NOT IN ('success', 'up_for_retry') THEN
    RAISE EXCEPTION 'weft_finish_quietly: % needs an evaluation', p_to;
  END IF;
  SELECT r.id AS run_id, r.state AS run_state, r.dag_id, ti.id AS ti_id, ti.state AS ti_state,
         ti.try_number AS ti_try, ti.start_date, l.try_number AS lease_try, l.api_key_id, l.worker_id,
         w.queues, w.task_types
    INTO v
    FROM leases l
    JOIN task_instances ti ON ti.id = l.task_instance_id
    JOIN dag_runs r ON r.id = ti.dag_run_id
    LEFT JOIN workers w ON w.id = l.worker_id
   WHERE l.id = p_lease_id
   FOR UPDATE OF r, ti, l;
  IF NOT FOUND OR v.ti_state <> 'running' OR v.ti_try <> v.lease_try OR v.ti_try <> p_try_number THEN
    RETURN QUERY SELECT 'stale'::text, NULL::"RunState", NULL::text, NULL::timestamptz, NULL::text, NULL::text[], NULL::text[];
    RETURN;
  END IF;
  IF v.api_key_id IS NOT NULL AND p_caller_key_id IS NOT NULL AND v.api_key_id <> p_caller_key_id THEN
    RETURN QUERY SELECT 'forbidden'::text, NULL::"RunState", NULL::text, NULL::timestamptz, NULL::text, NULL::text[], NULL::text[];
    RETURN;
  END IF;
  IF p_to = 'success' AND NOT EXISTS (
      SELECT 1 FROM task_instances o WHERE o.dag_run_id = v.run_id AND o.id <> v.ti_id AND o.state = ANY (p_unfinished)) THEN
    RETURN QUERY SELECT 'evaluate'::text, NULL::"RunState", NULL::text, NULL::timestamptz, NULL::text, NULL::text[], NULL::text[];
    RETURN;
  END IF;
  PERFORM weft_end_attempt(v.ti_id, v.ti_try, p_to, p_now, p_error, p_next_retry_at, p_lease_id, p_completion_hash,
    p_channel, p_slot_freed);
  RETURN QUERY SELECT 'done'::text, v.run_state, v.dag_id, v.start_date, v.worker_id, v.queues, v.task_types;
END
$fn$;
