-- AlterTable
ALTER TABLE "alert_deliveries" ADD COLUMN     "sla_warning_id" INTEGER;

-- CreateTable
CREATE TABLE "sla_warnings" (
    "id" SERIAL NOT NULL,
    "task_instance_id" INTEGER NOT NULL,
    "dag_id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "task_id" TEXT NOT NULL,
    "try_number" INTEGER NOT NULL,
    "logical_date" TIMESTAMPTZ(3) NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "elapsed_sec" DOUBLE PRECISION NOT NULL,
    "p95_sec" DOUBLE PRECISION NOT NULL,
    "p95_fraction" DOUBLE PRECISION NOT NULL,
    "samples" INTEGER NOT NULL,
    "detected_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sla_warnings_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "sla_warnings_task_instance_id_key" ON "sla_warnings"("task_instance_id");

-- CreateIndex
CREATE INDEX "sla_warnings_dag_id_detected_at_idx" ON "sla_warnings"("dag_id", "detected_at");

-- AddForeignKey
ALTER TABLE "sla_warnings" ADD CONSTRAINT "sla_warnings_task_instance_id_fkey" FOREIGN KEY ("task_instance_id") REFERENCES "task_instances"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_sla_warning_id_fkey" FOREIGN KEY ("sla_warning_id") REFERENCES "sla_warnings"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------------------------------------------
-- Hand-written below: SLA early warnings join the outbox (stream `sla:<dag id>`, kind `sla_warning`) like SLA misses
-- (migration `webhooks`), so webhooks see them; one event per warning (unique task_instance_id).
-- ---------------------------------------------------------------------------------------------------------------
CREATE FUNCTION weft_sla_warnings_events() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;

CREATE TRIGGER sla_warnings_events AFTER INSERT ON sla_warnings REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION weft_sla_warnings_events();
