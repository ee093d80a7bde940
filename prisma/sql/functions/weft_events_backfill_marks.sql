CREATE OR REPLACE FUNCTION public.weft_events_backfill_marks(p_backfill_ids integer[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
BEGIN
  INSERT INTO events (stream, kind, dag_id, run_id, payload)
  SELECT 'backfill:' || b.id, 'backfill_progress', b.dag_id, NULL, '{}'::jsonb
    FROM backfills b WHERE b.id = ANY (p_backfill_ids) ORDER BY b.id;
  IF FOUND THEN
    PERFORM weft_events_announce();
  END IF;
END $function$;
