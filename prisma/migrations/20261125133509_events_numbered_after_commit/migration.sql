-- AlterTable
ALTER TABLE "events" DROP COLUMN "txid";

-- DropTable
DROP TABLE "event_flushes";

-- ---------------------------------------------------------------------------------------------------------------
-- Hand-written below: events are numbered after commit instead of at commit (docs/graphql.md, "How events are
-- numbered"). A writing transaction only appends its events (seq NULL) and, while some process has subscribers,
-- NOTIFYs weft_events_pending; such a process then calls weft_events_number(), which numbers what has become visible
-- and NOTIFYs weft_events with the streams that moved. Writers no longer take a counter row, an extra row per
-- transaction and a commit-time trigger: the numbering costs nothing while nobody subscribes, and runs in batches
-- when someone does.
-- ---------------------------------------------------------------------------------------------------------------

DROP FUNCTION weft_events_flush();
DROP FUNCTION weft_events_touch(integer[]);

-- Unnumbered events, oldest first (the numberer's work list; partial, so it holds only what waits).
CREATE INDEX events_unnumbered_idx ON events (id) WHERE seq IS NULL;

-- Tells processes with subscribers that there are events to number. PostgreSQL folds identical notifications of one
-- transaction into one. Sent only while a process with subscribers is registered: a NOTIFY serialises commits, and
-- nobody would hear it.
CREATE FUNCTION weft_events_announce() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM event_listeners WHERE expires_at > clock_timestamp()) THEN
    PERFORM pg_notify('weft_events_pending', '');
  END IF;
END $$;

-- A backfill's progress changed: a mark ({} payload) in its stream; the numberer folds the marks of one backfill
-- that wait together into one event and counts the progress then.
CREATE FUNCTION weft_events_backfill_marks(p_backfill_ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO events (stream, kind, dag_id, run_id, payload)
  SELECT 'backfill:' || b.id, 'backfill_progress', b.dag_id, NULL, '{}'::jsonb
    FROM backfills b WHERE b.id = ANY (p_backfill_ids) ORDER BY b.id;
  IF FOUND THEN
    PERFORM weft_events_announce();
  END IF;
END $$;

CREATE OR REPLACE FUNCTION weft_task_instances_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_count integer;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO events (stream, kind, dag_id, run_id, payload)
    SELECT 'ti:' || n.dag_run_id, 'task_instance_state', n.dag_id, n.run_id,
           jsonb_build_object('taskId', n.task_id, 'state', n.state, 'previousState', o.state,
                              'tryNumber', n.try_number, 'maxTries', n.max_tries, 'startDate', n.start_date,
                              'endDate', n.end_date, 'at', clock_timestamp())
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.state IS DISTINCT FROM o.state
     ORDER BY n.id;
  ELSE
    -- Rows are born `none` (nothing happened yet); one born in another state is a transition from nothing.
    INSERT INTO events (stream, kind, dag_id, run_id, payload)
    SELECT 'ti:' || n.dag_run_id, 'task_instance_state', n.dag_id, n.run_id,
           jsonb_build_object('taskId', n.task_id, 'state', n.state, 'previousState', NULL,
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
END $$;

CREATE OR REPLACE FUNCTION weft_dag_runs_events() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;

CREATE OR REPLACE FUNCTION weft_backfill_items_touch() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;

CREATE OR REPLACE FUNCTION weft_backfills_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.is_paused IS DISTINCT FROM OLD.is_paused OR NEW.completed_at IS DISTINCT FROM OLD.completed_at
     OR NEW.canceled_at IS DISTINCT FROM OLD.canceled_at THEN
    PERFORM weft_events_backfill_marks(ARRAY[NEW.id]);
  END IF;
  RETURN NULL;
END $$;

-- Numbers up to p_limit waiting events, oldest first, and returns the streams that moved ("<stream> <last seq>"
-- lines; NULL when nothing waited), which it also NOTIFYs on weft_events ('*' when the list is too long for a
-- NOTIFY). Call it as its own statement (autocommit).
--
-- Why the numbers follow the order of events: one numberer runs at a time (a transaction-scoped advisory lock), and
-- what it numbers is what its snapshot, taken after the lock, shows committed, in id order. Two changes of one row
-- are ordered by the row's lock: the later transaction writes its event only after the earlier one committed, so
-- the later event has the greater id and is never numbered first. Events of concurrent transactions get the order
-- in which they became visible. A rolled-back transaction's events were never visible: no gap. Numbers are taken
-- from event_streams, which only the numberer writes.
CREATE FUNCTION weft_events_number(p_limit integer) RETURNS text LANGUAGE plpgsql AS $$
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
    CROSS JOIN LATERAL (
      SELECT count(*) AS total,
             count(*) FILTER (WHERE i.status = 'pending') AS pending,
             count(*) FILTER (WHERE i.status = 'skipped') AS skipped,
             count(*) FILTER (WHERE i.status <> 'pending' AND i.status <> 'skipped' AND r.state = 'queued') AS queued,
             count(*) FILTER (WHERE i.status <> 'pending' AND i.status <> 'skipped' AND r.state = 'running') AS running,
             count(*) FILTER (WHERE i.status <> 'pending' AND i.status <> 'skipped' AND r.state = 'success') AS success,
             count(*) FILTER (WHERE i.status <> 'pending' AND i.status <> 'skipped' AND r.state = 'failed') AS failed
        FROM backfill_runs i LEFT JOIN dag_runs r ON r.id = i.dag_run_id
       WHERE i.backfill_id = b.id
    ) c
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
  PERFORM pg_notify('weft_events', CASE WHEN octet_length(v_streams) > 7900 THEN '*' ELSE v_streams END);
  RETURN v_streams;
END $$;

-- Retention of the outbox: up to p_limit events older than p_cutoff, numbered or not (nobody will number an event
-- deleted before it was; under the numberer's lock, so none goes while it is being numbered). Returns the count.
CREATE FUNCTION weft_events_prune(p_cutoff timestamptz, p_limit integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_count integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('weft.events.numberer'));
  DELETE FROM events WHERE id IN (
    SELECT id FROM events WHERE created_at < p_cutoff ORDER BY created_at LIMIT p_limit FOR UPDATE SKIP LOCKED);
  GET DIAGNOSTICS v_count = ROW_COUNT;
  RETURN v_count;
END $$;
