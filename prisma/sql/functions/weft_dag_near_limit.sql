CREATE OR REPLACE FUNCTION public.weft_dag_near_limit(p_dag_id text)
 RETURNS boolean
 LANGUAGE plpgsql
AS $function$
-- Whether a slot freed in this DAG is worth a SLOT_FREED: the DAG is within the claim's margin of its
-- maxActiveTasks (so a claim may have been held back by it) and has work queued. weft_end_attempt and
-- weft_finish_quietly_many ask it.
BEGIN
  RETURN weft_dag_running_tasks(p_dag_id) + weft_limit_tickets() * weft_limit_ticket_budget()
      >= (SELECT d.max_active_tasks FROM dags d WHERE d.dag_id = p_dag_id)
    AND EXISTS (SELECT 1 FROM task_instances q WHERE q.state = 'queued' AND q.dag_id = p_dag_id);
END
$function$;
