CREATE OR REPLACE FUNCTION public.weft_backfills_touch()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  IF NEW.is_paused IS DISTINCT FROM OLD.is_paused OR NEW.completed_at IS DISTINCT FROM OLD.completed_at
     OR NEW.canceled_at IS DISTINCT FROM OLD.canceled_at THEN
    PERFORM weft_events_backfill_marks(ARRAY[NEW.id]);
  END IF;
  RETURN NULL;
END $function$;
