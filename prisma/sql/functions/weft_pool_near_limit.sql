CREATE OR REPLACE FUNCTION public.weft_pool_near_limit(p_pool text)
 RETURNS boolean
 LANGUAGE plpgsql
AS $function$
-- Whether a slot freed in this pool is worth a SLOT_FREED: the pool is within the claim's margin of its limit (so a
-- claim may have been held back by it) and has work queued. weft_end_attempt and weft_finish_quietly_many ask it.
BEGIN
  RETURN weft_pool_slots_used(p_pool) + weft_limit_tickets() * weft_limit_ticket_budget()
      >= (SELECT p.slots FROM pools p WHERE p.name = p_pool)
    AND EXISTS (SELECT 1 FROM task_instances q WHERE q.state = 'queued' AND q.pool = p_pool);
END
$function$;
