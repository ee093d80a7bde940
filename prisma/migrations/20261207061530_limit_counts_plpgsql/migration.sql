-- Written by `npm run db:sql:migration` from prisma/sql/ (the files it changes are the source).
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
CREATE OR REPLACE FUNCTION public.weft_pool_slots_used(p_pool text)
 RETURNS integer
 LANGUAGE plpgsql
 STABLE
AS $function$
-- Slots of the pool held by leases. PL/pgSQL, not SQL: a SQL function with a subquery is not inlined, and its body
-- is planned again in every statement that calls it (the claim asks this twice per pool); PL/pgSQL keeps the plan for
-- the session. STABLE: it reads with the calling statement's snapshot, as the SQL function did.
BEGIN
  RETURN (SELECT coalesce(sum(l.pool_slots), 0)::int FROM leases l WHERE l.pool = p_pool);
END
$function$;
