-- DropIndex
DROP INDEX "events_dag_id_id_idx";
