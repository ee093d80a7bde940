CREATE OR REPLACE FUNCTION public.weft_sla_warnings_events()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
  v_count integer;
BEGIN
  INSERT INTO events (stream, kind, dag_id, run_id, payload)
  SELECT 'sla:' || n.dag_id, 'sla_warning', n.dag_id, n.run_id,
         jsonb_build_object('runId', n.run_id, 'taskId', n.task_id, 'tryNumber', n.try_number,
                            'logicalDate', n.logical_date, 'startedAt', n.started_at, 'elapsedSec', n.elapsed_sec,
                            'p95Sec', n.p95_sec, 'p95Fraction', n.p95_fraction, 'samples', n.samples, 'at', n.detected_at)
    FROM new_rows n
   ORDER BY n.id;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  IF v_count > 0 THEN
    PERFORM weft_events_announce();
  END IF;
  RETURN NULL;
END $function$;
