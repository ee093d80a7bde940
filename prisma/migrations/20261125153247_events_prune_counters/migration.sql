-- Retention of the events outbox also drops the sequence counters of streams that can have no event again: the
-- task-instance stream of a deleted run, the progress stream of a deleted backfill (both are keyed by row ids,
-- which are never reused), once none of their events is left. A DAG's run stream keeps its counter: a DAG deleted
-- and registered again under the same id continues its numbering.
CREATE OR REPLACE FUNCTION weft_events_prune(p_cutoff timestamptz, p_limit integer) RETURNS integer LANGUAGE plpgsql AS $$
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
END $$;
