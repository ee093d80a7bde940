-- DropIndex
DROP INDEX "task_instances_dag_run_id_task_id_key";

-- AlterTable
ALTER TABLE "task_instances" ADD COLUMN     "expand_values" JSONB,
ADD COLUMN     "follow_task_ids" JSONB,
ADD COLUMN     "map_index" INTEGER NOT NULL DEFAULT -1;

-- CreateIndex
CREATE UNIQUE INDEX "task_instances_dag_run_id_task_id_map_index_key" ON "task_instances"("dag_run_id", "task_id", "map_index");
