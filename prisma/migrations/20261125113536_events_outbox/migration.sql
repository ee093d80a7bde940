-- AlterTable
ALTER TABLE "events" ADD COLUMN     "seq" BIGINT,
ADD COLUMN     "stream" TEXT NOT NULL,
ADD COLUMN     "txid" BIGINT NOT NULL DEFAULT txid_current();

-- CreateTable
CREATE TABLE "event_streams" (
    "stream" TEXT NOT NULL,
    "seq" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "event_streams_pkey" PRIMARY KEY ("stream")
);

-- CreateTable
CREATE TABLE "event_flushes" (
    "txid" BIGINT NOT NULL,
    "backfill_ids" INTEGER[] DEFAULT ARRAY[]::INTEGER[],

    CONSTRAINT "event_flushes_pkey" PRIMARY KEY ("txid")
);

-- CreateTable
CREATE TABLE "event_listeners" (
    "id" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "event_listeners_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "events_created_at_idx" ON "events"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "events_stream_seq_key" ON "events"("stream", "seq");

-- ---------------------------------------------------------------------------------------------------------------
-- Hand-written below (Prisma's schema language has no triggers): the outbox writers. Every statement that changes a
-- task instance's or a run's state, or a backfill's progress, appends events in its own transaction; a deferred
-- constraint trigger numbers them at commit and sends one NOTIFY. See src/events/.
-- ---------------------------------------------------------------------------------------------------------------

-- Marks the current transaction as having events to number at commit (once per transaction), and collects the
-- backfills whose progress changed.
CREATE FUNCTION weft_events_touch(p_backfill_ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_flushes AS f (txid, backfill_ids) VALUES (txid_current(), COALESCE(p_backfill_ids, '{}'))
  ON CONFLICT (txid) DO UPDATE
    SET backfill_ids = ARRAY(SELECT DISTINCT x FROM unnest(COALESCE(f.backfill_ids, '{}') || EXCLUDED.backfill_ids) AS x ORDER BY x)
    WHERE NOT (COALESCE(f.backfill_ids, '{}') @> EXCLUDED.backfill_ids);
END $$;

CREATE FUNCTION weft_task_instances_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_count integer;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO events (stream, kind, dag_id, run_id, payload, txid)
    SELECT 'ti:' || n.dag_run_id, 'task_instance_state', n.dag_id, n.run_id,
           jsonb_build_object('taskId', n.task_id, 'state', n.state, 'previousState', o.state,
                              'tryNumber', n.try_number, 'maxTries', n.max_tries, 'startDate', n.start_date,
                              'endDate', n.end_date, 'at', clock_timestamp()),
           txid_current()
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.state IS DISTINCT FROM o.state
     ORDER BY n.id;
  ELSE
    -- Rows are born `none` (nothing happened yet); one born in another state is a transition from nothing.
    INSERT INTO events (stream, kind, dag_id, run_id, payload, txid)
    SELECT 'ti:' || n.dag_run_id, 'task_instance_state', n.dag_id, n.run_id,
           jsonb_build_object('taskId', n.task_id, 'state', n.state, 'previousState', NULL,
                              'tryNumber', n.try_number, 'maxTries', n.max_tries, 'startDate', n.start_date,
                              'endDate', n.end_date, 'at', clock_timestamp()),
           txid_current()
      FROM new_rows n
     WHERE n.state <> 'none'
     ORDER BY n.id;
  END IF;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  IF v_count > 0 THEN
    PERFORM weft_events_touch(NULL);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER task_instances_events_update AFTER UPDATE ON task_instances
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION weft_task_instances_events();
CREATE TRIGGER task_instances_events_insert AFTER INSERT ON task_instances
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION weft_task_instances_events();

CREATE FUNCTION weft_dag_runs_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_count integer;
  v_backfills integer[];
BEGIN
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO events (stream, kind, dag_id, run_id, payload, txid)
    SELECT 'run:' || n.dag_id, 'dag_run_state', n.dag_id, n.run_id,
           jsonb_build_object('runId', n.run_id, 'state', n.state, 'previousState', o.state, 'runType', n.run_type,
                              'logicalDate', n.logical_date, 'startDate', n.start_date, 'endDate', n.end_date,
                              'backfillId', n.backfill_id, 'clearNumber', n.clear_number, 'at', clock_timestamp()),
           txid_current()
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.state IS DISTINCT FROM o.state
     ORDER BY n.id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    SELECT array_agg(DISTINCT n.backfill_id) INTO v_backfills
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.backfill_id IS NOT NULL AND n.state IS DISTINCT FROM o.state;
  ELSE
    INSERT INTO events (stream, kind, dag_id, run_id, payload, txid)
    SELECT 'run:' || n.dag_id, 'dag_run_state', n.dag_id, n.run_id,
           jsonb_build_object('runId', n.run_id, 'state', n.state, 'previousState', NULL, 'runType', n.run_type,
                              'logicalDate', n.logical_date, 'startDate', n.start_date, 'endDate', n.end_date,
                              'backfillId', n.backfill_id, 'clearNumber', n.clear_number, 'at', clock_timestamp()),
           txid_current()
      FROM new_rows n
     ORDER BY n.id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    SELECT array_agg(DISTINCT n.backfill_id) INTO v_backfills FROM new_rows n WHERE n.backfill_id IS NOT NULL;
  END IF;
  IF v_count > 0 OR v_backfills IS NOT NULL THEN
    PERFORM weft_events_touch(v_backfills);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER dag_runs_events_update AFTER UPDATE ON dag_runs
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION weft_dag_runs_events();
CREATE TRIGGER dag_runs_events_insert AFTER INSERT ON dag_runs
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION weft_dag_runs_events();

-- Backfill progress: planned dates (backfill_runs), the backfill's own state (pause, completion, cancel).
CREATE FUNCTION weft_backfill_items_touch() RETURNS trigger LANGUAGE plpgsql AS $$
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
    PERFORM weft_events_touch(v_backfills);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER backfill_runs_events_update AFTER UPDATE ON backfill_runs
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION weft_backfill_items_touch();
CREATE TRIGGER backfill_runs_events_insert AFTER INSERT ON backfill_runs
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION weft_backfill_items_touch();

CREATE FUNCTION weft_backfills_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.is_paused IS DISTINCT FROM OLD.is_paused OR NEW.completed_at IS DISTINCT FROM OLD.completed_at
     OR NEW.canceled_at IS DISTINCT FROM OLD.canceled_at THEN
    PERFORM weft_events_touch(ARRAY[NEW.id]);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER backfills_events_update AFTER UPDATE ON backfills
  FOR EACH ROW EXECUTE FUNCTION weft_backfills_touch();

-- At commit: one progress event per touched backfill, then every event of this transaction gets its stream's next
-- sequence numbers. The counters are locked last in the transaction and in stream order, so two transactions never
-- wait on each other's counters in a cycle; a counter is held until commit, so numbers follow commit order and a
-- rolled-back transaction leaves no gap. One NOTIFY lists the streams that moved ("<stream> <last seq>" lines), or
-- '*' when that list would not fit a NOTIFY payload; it is sent only while a process with subscribers is registered
-- in event_listeners.
CREATE FUNCTION weft_events_flush() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_backfills integer[];
  v_counts jsonb;
  v_base jsonb;
  v_streams text;
BEGIN
  SELECT backfill_ids INTO v_backfills FROM event_flushes WHERE txid = NEW.txid;
  IF v_backfills IS NOT NULL AND cardinality(v_backfills) > 0 THEN
    INSERT INTO events (stream, kind, dag_id, run_id, payload, txid)
    SELECT 'backfill:' || b.id, 'backfill_progress', b.dag_id, NULL,
           jsonb_build_object('backfillId', b.id, 'total', c.total, 'pending', c.pending, 'skipped', c.skipped,
                              'queued', c.queued, 'running', c.running, 'success', c.success, 'failed', c.failed,
                              'isPaused', b.is_paused, 'completedAt', b.completed_at, 'canceledAt', b.canceled_at,
                              'at', clock_timestamp()),
           NEW.txid
      FROM backfills b
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
     WHERE b.id = ANY (v_backfills)
     ORDER BY b.id;
  END IF;

  -- Events per stream in this transaction. (Maps in jsonb rather than joins: the planner knows nothing about a
  -- transaction's fresh rows and would join them by nested loops.)
  SELECT jsonb_object_agg(stream, n) INTO v_counts
    FROM (SELECT stream, count(*) AS n FROM events WHERE txid = NEW.txid AND seq IS NULL GROUP BY stream) c;
  IF v_counts IS NOT NULL THEN
    -- Take each stream's next numbers: base = the last number before this transaction's.
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
              FROM events WHERE txid = NEW.txid AND seq IS NULL) p
     WHERE e.id = p.id;

    -- Announced only while some process has subscribers: a NOTIFY serialises commits, and nobody would hear it.
    IF EXISTS (SELECT 1 FROM event_listeners WHERE expires_at > clock_timestamp()) THEN
      PERFORM pg_notify('weft_events', CASE WHEN octet_length(v_streams) > 7900 THEN '*' ELSE v_streams END);
    END IF;
  END IF;
  DELETE FROM event_flushes WHERE txid = NEW.txid;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER event_flushes_number_at_commit AFTER INSERT ON event_flushes
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION weft_events_flush();

-- Events are numbered only at commit; this finds a transaction's own unnumbered rows.
CREATE INDEX events_unnumbered_txid_idx ON events (txid) WHERE seq IS NULL;
