CREATE OR REPLACE FUNCTION public.weft_claim_tasks(p_worker_id text, p_queues text[], p_task_types text[], p_capacity integer, p_lease_ttl_sec integer, p_api_key_id uuid, p_hostname text, p_now timestamp with time zone)
 RETURNS TABLE(lease_id uuid, task_instance_id integer, dag_run_id integer, dag_id text, run_id text, task_id text, task_type text, queue text, try_number integer, max_tries integer, queued_at timestamp with time zone, lease_expires_at timestamp with time zone, deadline_at timestamp with time zone, dag_version_id integer, logical_date timestamp with time zone, data_interval_start timestamp with time zone, data_interval_end timestamp with time zone, conf jsonb, blocked boolean)
 LANGUAGE sql
AS $function$
  -- One lease request's claim: weft_claim_tasks_many with one requester (kept for callers of the old signature).
  SELECT c.lease_id, c.task_instance_id, c.dag_run_id, c.dag_id, c.run_id, c.task_id, c.task_type, c.queue, c.try_number,
    c.max_tries, c.queued_at, c.lease_expires_at, c.deadline_at, c.dag_version_id, c.logical_date, c.data_interval_start,
    c.data_interval_end, c.conf, c.blocked
  FROM weft_claim_tasks_many(ARRAY[p_worker_id], p_queues, p_task_types, ARRAY[p_capacity], p_lease_ttl_sec,
    ARRAY[p_api_key_id], ARRAY[p_hostname], p_now) AS c
$function$;
