CREATE OR REPLACE FUNCTION public.weft_pool_slots_used(p_pool text)
 RETURNS integer
 LANGUAGE sql
 STABLE
AS $function$
  SELECT coalesce(sum(l.pool_slots), 0)::int FROM leases l WHERE l.pool = p_pool
$function$;
