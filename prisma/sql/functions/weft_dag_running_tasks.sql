CREATE OR REPLACE FUNCTION public.weft_dag_running_tasks(p_dag_id text)
 RETURNS integer
 LANGUAGE sql
 STABLE
AS $function$
  SELECT count(*)::int FROM task_instances r WHERE r.dag_id = p_dag_id AND r.state = 'running'
$function$;
