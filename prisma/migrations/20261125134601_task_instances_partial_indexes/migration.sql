-- DropIndex
DROP INDEX "task_instances_sla_deadline_idx";

-- DropIndex
DROP INDEX "task_instances_state_next_retry_at_idx";

-- DropIndex
DROP INDEX "task_instances_state_queue_priority_weight_logical_date_idx";

-- Hand-written (Prisma's schema cannot express partial indexes; its diff leaves these alone). Every state change of
-- a task instance rewrites its entry in each full index of the table; these hold only the rows their readers want,
-- so most updates skip them. The queue order (state, queue, priority_weight, logical_date) dropped above is served
-- by the partial task_instances_queued_claim_idx (migration claim_path).
CREATE INDEX "task_instances_retry_due_idx" ON "task_instances" ("next_retry_at") WHERE "state" = 'up_for_retry';
CREATE INDEX "task_instances_sla_deadline_idx" ON "task_instances" ("sla_deadline") WHERE "sla_deadline" IS NOT NULL;
