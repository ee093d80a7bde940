CREATE OR REPLACE FUNCTION public.weft_dag_runs_events()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
  v_count integer;
  v_backfills integer[];
BEGIN
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO events (stream, kind, dag_id, run_id, payload)
    SELECT 'run:' || n.dag_id, 'dag_run_state', n.dag_id, n.run_id,
           jsonb_build_object('runId', n.run_id, 'state', n.state, 'previousState', o.state, 'runType', n.run_type,
                              'logicalDate', n.logical_date, 'startDate', n.start_date, 'endDate', n.end_date,
                              'backfillId', n.backfill_id, 'clearNumber', n.clear_number, 'at', clock_timestamp())
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.state IS DISTINCT FROM o.state
     ORDER BY n.id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    SELECT array_agg(DISTINCT n.backfill_id) INTO v_backfills
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.backfill_id IS NOT NULL AND n.state IS DISTINCT FROM o.state;
  ELSE
    INSERT INTO events (stream, kind, dag_id, run_id, payload)
    SELECT 'run:' || n.dag_id, 'dag_run_state', n.dag_id, n.run_id,
           jsonb_build_object('runId', n.run_id, 'state', n.state, 'previousState', NULL, 'runType', n.run_type,
                              'logicalDate', n.logical_date, 'startDate', n.start_date, 'endDate', n.end_date,
                              'backfillId', n.backfill_id, 'clearNumber', n.clear_number, 'at', clock_timestamp())
      FROM new_rows n
     ORDER BY n.id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    SELECT array_agg(DISTINCT n.backfill_id) INTO v_backfills FROM new_rows n WHERE n.backfill_id IS NOT NULL;
  END IF;
  IF v_count > 0 THEN
    PERFORM weft_events_announce();
  END IF;
  IF v_backfills IS NOT NULL THEN
    PERFORM weft_events_backfill_marks(v_backfills);
  END IF;
  RETURN NULL;
END $function$;
