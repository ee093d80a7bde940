-- DropIndex
DROP INDEX "leases_task_instance_id_key";

-- CreateIndex
CREATE INDEX "leases_task_instance_id_idx" ON "leases"("task_instance_id");

-- At most one live lease per task instance, as before: a lease cancelled from outside (clear, mark, an execution
-- timeout: cancel_requested) no longer counts, so the task instance can start its next attempt while the cancelled
-- one's row waits for its worker to report (or to expire), still holding its pool slots. Partial: Prisma's schema
-- cannot express it, and its migration diff leaves it alone (docs/database.md).
CREATE UNIQUE INDEX "leases_live_task_instance_key" ON "leases" ("task_instance_id") WHERE NOT "cancel_requested";
