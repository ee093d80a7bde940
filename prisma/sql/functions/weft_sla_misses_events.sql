CREATE OR REPLACE FUNCTION public.weft_sla_misses_events()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
  v_count integer;
BEGIN
  INSERT INTO events (stream, kind, dag_id, run_id, payload)
  SELECT 'sla:' || n.dag_id, 'sla_miss', n.dag_id, n.run_id,
         jsonb_build_object('runId', n.run_id, 'taskId', n.task_id, 'logicalDate', n.logical_date,
                            'deadline', n.deadline, 'at', n.detected_at)
    FROM new_rows n
   ORDER BY n.id;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  IF v_count > 0 THEN
    PERFORM weft_events_announce();
  END IF;
  RETURN NULL;
END $function$;
