CREATE OR REPLACE FUNCTION public.weft_events_prune(p_cutoff timestamp with time zone, p_limit integer)
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
DECLARE
  v_count integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('weft.events.numberer'));
  DELETE FROM events WHERE id IN (
    SELECT id FROM events WHERE created_at < p_cutoff ORDER BY created_at LIMIT p_limit FOR UPDATE SKIP LOCKED);
  GET DIAGNOSTICS v_count = ROW_COUNT;
  DELETE FROM event_streams WHERE stream IN (
    SELECT s.stream FROM event_streams s
     WHERE ((s.stream LIKE 'ti:%' AND NOT EXISTS (SELECT 1 FROM dag_runs r WHERE r.id = substr(s.stream, 4)::int))
         OR (s.stream LIKE 'backfill:%' AND NOT EXISTS (SELECT 1 FROM backfills b WHERE b.id = substr(s.stream, 10)::int)))
       AND NOT EXISTS (SELECT 1 FROM events e WHERE e.stream = s.stream)
     LIMIT p_limit);
  RETURN v_count;
END $function$;
