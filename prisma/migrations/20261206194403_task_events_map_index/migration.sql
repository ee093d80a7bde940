-- Task instance state events carry the instance's map index (issue 23): instances of one mapped task are told apart.
CREATE OR REPLACE FUNCTION public.weft_task_instances_events()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
  v_count integer;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO events (stream, kind, dag_id, run_id, payload)
    SELECT 'ti:' || n.dag_run_id, 'task_instance_state', n.dag_id, n.run_id,
           jsonb_build_object('taskId', n.task_id, 'mapIndex', n.map_index, 'state', n.state, 'previousState', o.state,
                              'tryNumber', n.try_number, 'maxTries', n.max_tries, 'startDate', n.start_date,
                              'endDate', n.end_date, 'at', clock_timestamp())
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.state IS DISTINCT FROM o.state
     ORDER BY n.id;
  ELSE
    -- Rows are born `none` (nothing happened yet); one born in another state is a transition from nothing.
    INSERT INTO events (stream, kind, dag_id, run_id, payload)
    SELECT 'ti:' || n.dag_run_id, 'task_instance_state', n.dag_id, n.run_id,
           jsonb_build_object('taskId', n.task_id, 'mapIndex', n.map_index, 'state', n.state, 'previousState', NULL,
                              'tryNumber', n.try_number, 'maxTries', n.max_tries, 'startDate', n.start_date,
                              'endDate', n.end_date, 'at', clock_timestamp())
      FROM new_rows n
     WHERE n.state <> 'none'
     ORDER BY n.id;
  END IF;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  IF v_count > 0 THEN
    PERFORM weft_events_announce();
  END IF;
  RETURN NULL;
END $function$;
