CREATE OR REPLACE FUNCTION public.weft_end_attempt(p_ti_id integer, p_try_number integer, p_to "TaskState", p_now timestamp with time zone, p_error text, p_next_retry_at timestamp with time zone, p_lease_id uuid, p_completion_hash text, p_channel text, p_slot_freed text)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
DECLARE
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
  IF weft_pool_near_limit(v_pool) OR weft_dag_near_limit(v_dag) THEN
    PERFORM pg_notify(p_channel, p_slot_freed);
  END IF;
END
$function$;
