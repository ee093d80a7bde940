CREATE OR REPLACE FUNCTION public.weft_dag_running_tasks(p_dag_id text)
 RETURNS integer
 LANGUAGE plpgsql
 STABLE
AS $function$
-- Running task instances of the DAG (its maxActiveTasks usage). PL/pgSQL for the reason weft_pool_slots_used gives.
BEGIN
  RETURN (SELECT count(*)::int FROM task_instances r WHERE r.dag_id = p_dag_id AND r.state = 'running');
END
$function$;
