-- CreateTable
CREATE TABLE "webhooks" (
    "id" SERIAL NOT NULL,
    "url" TEXT NOT NULL,
    "event_kinds" TEXT[],
    "dag_ids" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "secret" TEXT,
    "secret_ref" TEXT,
    "description" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "failing_since" TIMESTAMPTZ(3),
    "disabled_at" TIMESTAMPTZ(3),
    "disabled_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhooks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "webhook_id" INTEGER NOT NULL,
    "event_id" BIGINT NOT NULL,
    "stream" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "kind" TEXT NOT NULL,
    "dag_id" TEXT NOT NULL,
    "run_id" TEXT,
    "payload" JSONB NOT NULL,
    "redelivery_of" BIGINT,
    "state" "DeliveryState" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    "delivered_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "webhook_deliveries_state_next_attempt_at_idx" ON "webhook_deliveries"("state", "next_attempt_at");

-- CreateIndex
CREATE INDEX "webhook_deliveries_webhook_id_id_idx" ON "webhook_deliveries"("webhook_id", "id");

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_fkey" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------------------------------------------
-- Hand-written below: outbound webhooks for state changes (docs/alerts.md "Webhooks for state changes").
-- ---------------------------------------------------------------------------------------------------------------

-- One delivery per event and webhook (redeliveries are extra rows that point to the first).
CREATE UNIQUE INDEX webhook_deliveries_event_key ON webhook_deliveries (webhook_id, stream, seq) WHERE redelivery_of IS NULL;
-- The claim's in-order check: is an earlier delivery of this webhook and stream still pending?
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (webhook_id, stream, seq) WHERE state = 'pending';

-- SLA misses join the outbox (stream `sla:<dag id>`, kind `sla_miss`), so webhooks and subscribers see them; the
-- unique task_instance_id of sla_misses makes it one event per miss, however many schedulers detect it.
CREATE FUNCTION weft_sla_misses_events() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;

CREATE TRIGGER sla_misses_events AFTER INSERT ON sla_misses REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION weft_sla_misses_events();

-- The numberer of migration events_numbered_after_commit, plus the webhook fan-out after numbering (marked below).
CREATE OR REPLACE FUNCTION weft_events_number(p_limit integer) RETURNS text LANGUAGE plpgsql AS $$
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
END $$;
