-- AlterTable
ALTER TABLE "alert_deliveries" ADD COLUMN     "dag_run_id" INTEGER,
ADD COLUMN     "task_instance_id" INTEGER;
