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
