CREATE OR REPLACE FUNCTION public.weft_backfill_items_touch()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
  v_backfills integer[];
BEGIN
  IF TG_OP = 'UPDATE' THEN
    SELECT array_agg(DISTINCT n.backfill_id) INTO v_backfills
      FROM new_rows n JOIN old_rows o ON o.backfill_id = n.backfill_id AND o.sort_ordinal = n.sort_ordinal
     WHERE n.status IS DISTINCT FROM o.status OR n.dag_run_id IS DISTINCT FROM o.dag_run_id;
  ELSE
    SELECT array_agg(DISTINCT n.backfill_id) INTO v_backfills FROM new_rows n;
  END IF;
  IF v_backfills IS NOT NULL THEN
    PERFORM weft_events_backfill_marks(v_backfills);
  END IF;
  RETURN NULL;
END $function$;
