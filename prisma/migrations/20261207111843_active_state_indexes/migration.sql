-- DropIndex
DROP INDEX "dag_runs_backfill_id_idx";

-- DropIndex
DROP INDEX "dag_runs_dag_id_state_idx";

-- DropIndex
DROP INDEX "dag_runs_state_queued_at_idx";

-- DropIndex
DROP INDEX "task_instances_dag_id_state_idx";

-- Hand-written (Prisma's schema cannot express partial indexes; its diff leaves these alone). A state change of a
-- run or task instance is never a HOT update (state is indexed), so it writes a new entry into every full index of
-- its table, and every insert writes one into each. These replace the full indexes with partial ones that hold only
-- the rows their readers look for:
-- - a DAG's queued and running tasks (weft_dag_running_tasks, weft_dag_near_limit): a task instance enters the
--   index when it is queued and when it runs, not when it is created (`none`) or when it ends;
-- - a DAG's queued and running runs (maxActiveRuns, the runs that may start, and the run starter's DAGs with queued
--   runs, which (state, queued_at) served): a run enters it when it is created queued and when it runs, where the
--   two full indexes took an entry each for every state it went through;
-- - a backfill's runs (also what a backfill's ON DELETE SET NULL reads): only runs of a backfill have a backfill_id.
CREATE INDEX "task_instances_dag_id_active_idx" ON "task_instances" ("dag_id", "state") WHERE "state" IN ('queued', 'running');
CREATE INDEX "dag_runs_dag_id_active_idx" ON "dag_runs" ("dag_id", "state") WHERE "state" IN ('queued', 'running');
CREATE INDEX "dag_runs_backfill_id_idx" ON "dag_runs" ("backfill_id") WHERE "backfill_id" IS NOT NULL;
