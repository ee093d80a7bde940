CREATE OR REPLACE FUNCTION public.weft_events_number(p_limit integer)
 RETURNS text
 LANGUAGE plpgsql
AS $function$
DECLARE
  v_ids bigint[];
  v_counts jsonb;
  v_base jsonb;
  v_streams text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('weft.events.numberer'));
  SELECT array_agg(id ORDER BY id) INTO v_ids
    FROM (SELECT id FROM events WHERE seq IS NULL ORDER BY id LIMIT p_limit) p;
  IF v_ids IS NULL THEN
    RETURN NULL;
  END IF;

  -- Backfill progress: of the waiting marks of one backfill the last stays (the others go) and gets the progress
  -- counted now; marks of a backfill deleted meanwhile go too.
  WITH marks AS (
    SELECT id, stream, row_number() OVER (PARTITION BY stream ORDER BY id DESC) AS rn
      FROM events WHERE id = ANY (v_ids) AND kind = 'backfill_progress'),
  dropped AS (
    DELETE FROM events e USING marks m
     WHERE e.id = m.id AND (m.rn > 1 OR NOT EXISTS (SELECT 1 FROM backfills b WHERE b.id = substr(m.stream, 10)::int))
    RETURNING e.id)
  SELECT ARRAY(SELECT x FROM unnest(v_ids) AS x EXCEPT SELECT id FROM dropped) INTO v_ids;
  UPDATE events e
     SET payload = jsonb_build_object('backfillId', b.id, 'total', c.total, 'pending', c.pending,
                                      'skipped', c.skipped, 'queued', c.queued, 'running', c.running,
                                      'success', c.success, 'failed', c.failed, 'isPaused', b.is_paused,
                                      'completedAt', b.completed_at, 'canceledAt', b.canceled_at,
                                      'at', clock_timestamp())
    FROM events m
    JOIN backfills b ON b.id = substr(m.stream, 10)::int
    CROSS JOIN LATERAL weft_backfill_counts(b.id) c
   WHERE m.id = ANY (v_ids) AND m.kind = 'backfill_progress' AND e.id = m.id;
  IF cardinality(v_ids) = 0 THEN
    RETURN NULL;
  END IF;

  -- Each stream's next numbers, in id order within the stream. (Maps in jsonb rather than joins: the planner knows
  -- little about rows this fresh and would join them by nested loops.)
  SELECT jsonb_object_agg(stream, n) INTO v_counts
    FROM (SELECT stream, count(*) AS n FROM events WHERE id = ANY (v_ids) GROUP BY stream) c;
  WITH bumped AS (
    INSERT INTO event_streams AS s (stream, seq)
    SELECT key, value::bigint FROM jsonb_each_text(v_counts) ORDER BY key
    ON CONFLICT (stream) DO UPDATE SET seq = s.seq + EXCLUDED.seq
    RETURNING s.stream, s.seq
  )
  SELECT jsonb_object_agg(stream, seq - (v_counts ->> stream)::bigint),
         string_agg(stream || ' ' || seq, E'\n' ORDER BY stream)
    INTO v_base, v_streams
    FROM bumped;
  UPDATE events e SET seq = (v_base ->> p.stream)::bigint + p.rn
    FROM (SELECT id, stream, row_number() OVER (PARTITION BY stream ORDER BY id) AS rn
            FROM events WHERE id = ANY (v_ids)) p
   WHERE e.id = p.id;
  -- Webhooks: one delivery per numbered event and enabled webhook that wants it (kind, DAG filter), for events
  -- written since the webhook exists. Here, under the numberer's lock, every event is fanned out exactly once.
  INSERT INTO webhook_deliveries (webhook_id, event_id, stream, seq, kind, dag_id, run_id, payload, next_attempt_at)
  SELECT w.id, e.id, e.stream, e.seq, e.kind, e.dag_id, e.run_id, e.payload, e.created_at
    FROM events e
    JOIN webhooks w ON w.enabled AND e.kind = ANY (w.event_kinds)
                   AND (cardinality(w.dag_ids) = 0 OR e.dag_id = ANY (w.dag_ids)) AND e.created_at >= w.created_at
   WHERE e.id = ANY (v_ids)
   ORDER BY w.id, e.stream, e.seq;
  IF FOUND THEN
    PERFORM pg_notify('weft_webhooks', '');
  END IF;
  PERFORM pg_notify('weft_events', CASE WHEN octet_length(v_streams) > 7900 THEN '*' ELSE v_streams END);
  RETURN v_streams;
END $function$;
