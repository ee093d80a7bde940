CREATE OR REPLACE FUNCTION public.weft_finish_quietly(p_lease_id uuid, p_caller_key_id uuid, p_try_number integer, p_to "TaskState", p_now timestamp with time zone, p_error text, p_next_retry_at timestamp with time zone, p_completion_hash text, p_unfinished "TaskState"[], p_channel text, p_slot_freed text)
 RETURNS TABLE(outcome text, run_state "RunState", dag_id text, start_date timestamp with time zone, worker_id text, worker_queues text[], worker_task_types text[])
 LANGUAGE plpgsql
AS $function$
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
$function$;
