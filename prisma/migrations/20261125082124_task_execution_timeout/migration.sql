-- AlterTable
ALTER TABLE "task_instances" ADD COLUMN     "execution_timeout_sec" INTEGER;
