CREATE OR REPLACE FUNCTION public.weft_limit_ticket_budget()
 RETURNS integer
 LANGUAGE sql
 IMMUTABLE
AS $function$ SELECT 16 $function$;
