CREATE OR REPLACE FUNCTION public.weft_limit_tickets()
 RETURNS integer
 LANGUAGE sql
 IMMUTABLE
AS $function$ SELECT 4 $function$;
