-- DropForeignKey
ALTER TABLE "sla_callback_deliveries" DROP CONSTRAINT "sla_callback_deliveries_sla_miss_id_fkey";

-- AlterTable
ALTER TABLE "task_instances" ADD COLUMN     "sla_deadline" TIMESTAMPTZ(3);

-- DropTable
DROP TABLE "sla_callback_deliveries";

-- CreateTable
CREATE TABLE "alert_deliveries" (
    "id" SERIAL NOT NULL,
    "dedupe_key" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "dag_id" TEXT NOT NULL,
    "dag_version_id" INTEGER NOT NULL,
    "callback_list" TEXT NOT NULL,
    "callback_index" INTEGER NOT NULL,
    "channel" TEXT NOT NULL,
    "message" JSONB NOT NULL,
    "sla_miss_id" INTEGER,
    "state" "DeliveryState" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    "delivered_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alert_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "alert_deliveries_dedupe_key_key" ON "alert_deliveries"("dedupe_key");

-- CreateIndex
CREATE INDEX "alert_deliveries_state_next_attempt_at_idx" ON "alert_deliveries"("state", "next_attempt_at");

-- CreateIndex
CREATE INDEX "alert_deliveries_dag_id_created_at_idx" ON "alert_deliveries"("dag_id", "created_at");

-- CreateIndex
CREATE INDEX "task_instances_sla_deadline_idx" ON "task_instances"("sla_deadline");

-- AddForeignKey
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_sla_miss_id_fkey" FOREIGN KEY ("sla_miss_id") REFERENCES "sla_misses"("id") ON DELETE CASCADE ON UPDATE CASCADE;
