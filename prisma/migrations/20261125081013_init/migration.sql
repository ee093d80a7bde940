-- CreateEnum
CREATE TYPE "TaskState" AS ENUM ('none', 'scheduled', 'queued', 'running', 'success', 'failed', 'up_for_retry', 'upstream_failed', 'skipped', 'removed');

-- CreateEnum
CREATE TYPE "RunState" AS ENUM ('queued', 'running', 'success', 'failed');

-- CreateEnum
CREATE TYPE "RunType" AS ENUM ('scheduled', 'manual', 'backfill', 'dataset_triggered');

-- CreateEnum
CREATE TYPE "DagSource" AS ENUM ('api', 'folder');

-- CreateEnum
CREATE TYPE "ReprocessBehavior" AS ENUM ('none', 'failed', 'completed');

-- CreateEnum
CREATE TYPE "ApiKeyRole" AS ENUM ('admin', 'operator', 'viewer', 'worker');

-- CreateEnum
CREATE TYPE "DeliveryState" AS ENUM ('pending', 'delivered', 'failed');

-- CreateTable
CREATE TABLE "dags" (
    "dag_id" TEXT NOT NULL,
    "is_paused" BOOLEAN NOT NULL DEFAULT false,
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "source" "DagSource" NOT NULL DEFAULT 'api',
    "fileloc" TEXT,
    "latest_version" INTEGER NOT NULL,
    "description" TEXT,
    "owner" TEXT,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "schedule" JSONB,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "max_active_runs" INTEGER NOT NULL DEFAULT 16,
    "max_active_tasks" INTEGER NOT NULL DEFAULT 16,
    "next_dagrun_logical_date" TIMESTAMPTZ(3),
    "next_dagrun_create_after" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dags_pkey" PRIMARY KEY ("dag_id")
);

-- CreateTable
CREATE TABLE "dag_versions" (
    "id" SERIAL NOT NULL,
    "dag_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "content_hash" TEXT NOT NULL,
    "document" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dag_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dag_import_errors" (
    "fileloc" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "details" JSONB,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dag_import_errors_pkey" PRIMARY KEY ("fileloc")
);

-- CreateTable
CREATE TABLE "dag_runs" (
    "id" SERIAL NOT NULL,
    "dag_id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "dag_version_id" INTEGER NOT NULL,
    "run_type" "RunType" NOT NULL,
    "state" "RunState" NOT NULL DEFAULT 'queued',
    "logical_date" TIMESTAMPTZ(3) NOT NULL,
    "data_interval_start" TIMESTAMPTZ(3) NOT NULL,
    "data_interval_end" TIMESTAMPTZ(3) NOT NULL,
    "run_after" TIMESTAMPTZ(3) NOT NULL,
    "conf" JSONB NOT NULL DEFAULT '{}',
    "backfill_id" INTEGER,
    "clear_number" INTEGER NOT NULL DEFAULT 0,
    "queued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "start_date" TIMESTAMPTZ(3),
    "end_date" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dag_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "task_instances" (
    "id" SERIAL NOT NULL,
    "dag_run_id" INTEGER NOT NULL,
    "dag_id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "task_id" TEXT NOT NULL,
    "state" "TaskState" NOT NULL DEFAULT 'none',
    "try_number" INTEGER NOT NULL DEFAULT 0,
    "max_tries" INTEGER NOT NULL DEFAULT 1,
    "task_type" TEXT NOT NULL,
    "queue" TEXT NOT NULL DEFAULT 'default',
    "pool" TEXT NOT NULL DEFAULT 'default_pool',
    "pool_slots" INTEGER NOT NULL DEFAULT 1,
    "priority_weight" INTEGER NOT NULL DEFAULT 1,
    "logical_date" TIMESTAMPTZ(3) NOT NULL,
    "scheduled_at" TIMESTAMPTZ(3),
    "queued_at" TIMESTAMPTZ(3),
    "start_date" TIMESTAMPTZ(3),
    "end_date" TIMESTAMPTZ(3),
    "next_retry_at" TIMESTAMPTZ(3),
    "next_poke_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "task_instances_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "task_instance_tries" (
    "id" SERIAL NOT NULL,
    "task_instance_id" INTEGER NOT NULL,
    "try_number" INTEGER NOT NULL,
    "state" "TaskState" NOT NULL,
    "worker_id" TEXT,
    "hostname" TEXT,
    "lease_id" UUID,
    "completion_hash" TEXT,
    "start_date" TIMESTAMPTZ(3),
    "end_date" TIMESTAMPTZ(3),
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "task_instance_tries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "leases" (
    "id" UUID NOT NULL,
    "task_instance_id" INTEGER NOT NULL,
    "try_number" INTEGER NOT NULL,
    "worker_id" TEXT NOT NULL,
    "api_key_id" UUID,
    "queue" TEXT NOT NULL,
    "pool" TEXT NOT NULL,
    "pool_slots" INTEGER NOT NULL,
    "acquired_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "deadline_at" TIMESTAMPTZ(3),
    "cancel_requested" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "leases_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workers" (
    "id" TEXT NOT NULL,
    "hostname" TEXT,
    "queues" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "task_types" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "capacity" INTEGER NOT NULL DEFAULT 1,
    "first_seen" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pools" (
    "name" TEXT NOT NULL,
    "slots" INTEGER NOT NULL,
    "description" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pools_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "xcom" (
    "id" SERIAL NOT NULL,
    "task_instance_id" INTEGER NOT NULL,
    "dag_id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "task_id" TEXT NOT NULL,
    "try_number" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "xcom_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "task_logs" (
    "id" BIGSERIAL NOT NULL,
    "task_instance_id" INTEGER NOT NULL,
    "try_number" INTEGER NOT NULL,
    "line" TEXT NOT NULL,
    "stream" TEXT NOT NULL DEFAULT 'stdout',
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "task_logs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "datasets" (
    "id" SERIAL NOT NULL,
    "uri" TEXT NOT NULL,
    "extra" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "datasets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dataset_events" (
    "id" SERIAL NOT NULL,
    "dataset_id" INTEGER NOT NULL,
    "source_dag_id" TEXT,
    "source_run_id" TEXT,
    "source_task_id" TEXT,
    "source_try_number" INTEGER,
    "extra" JSONB NOT NULL DEFAULT '{}',
    "timestamp" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dataset_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dataset_consumers" (
    "dag_id" TEXT NOT NULL,
    "dataset_id" INTEGER NOT NULL,

    CONSTRAINT "dataset_consumers_pkey" PRIMARY KEY ("dag_id","dataset_id")
);

-- CreateTable
CREATE TABLE "dataset_producers" (
    "dag_id" TEXT NOT NULL,
    "task_id" TEXT NOT NULL,
    "dataset_id" INTEGER NOT NULL,

    CONSTRAINT "dataset_producers_pkey" PRIMARY KEY ("dag_id","task_id","dataset_id")
);

-- CreateTable
CREATE TABLE "dataset_dag_run_queue" (
    "dataset_id" INTEGER NOT NULL,
    "target_dag_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dataset_dag_run_queue_pkey" PRIMARY KEY ("dataset_id","target_dag_id")
);

-- CreateTable
CREATE TABLE "backfills" (
    "id" SERIAL NOT NULL,
    "dag_id" TEXT NOT NULL,
    "from_date" TIMESTAMPTZ(3) NOT NULL,
    "to_date" TIMESTAMPTZ(3) NOT NULL,
    "max_active_runs" INTEGER NOT NULL,
    "reprocess_behavior" "ReprocessBehavior" NOT NULL DEFAULT 'none',
    "run_backwards" BOOLEAN NOT NULL DEFAULT false,
    "conf" JSONB NOT NULL DEFAULT '{}',
    "is_paused" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),
    "canceled_at" TIMESTAMPTZ(3),

    CONSTRAINT "backfills_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "backfill_runs" (
    "backfill_id" INTEGER NOT NULL,
    "sort_ordinal" INTEGER NOT NULL,
    "logical_date" TIMESTAMPTZ(3) NOT NULL,
    "dag_run_id" INTEGER,
    "skip_reason" TEXT,

    CONSTRAINT "backfill_runs_pkey" PRIMARY KEY ("backfill_id","sort_ordinal")
);

-- CreateTable
CREATE TABLE "sla_misses" (
    "id" SERIAL NOT NULL,
    "task_instance_id" INTEGER NOT NULL,
    "dag_id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "task_id" TEXT NOT NULL,
    "logical_date" TIMESTAMPTZ(3) NOT NULL,
    "deadline" TIMESTAMPTZ(3) NOT NULL,
    "detected_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sla_misses_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sla_callback_deliveries" (
    "id" SERIAL NOT NULL,
    "sla_miss_id" INTEGER NOT NULL,
    "callback_index" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "state" "DeliveryState" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    "delivered_at" TIMESTAMPTZ(3),

    CONSTRAINT "sla_callback_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "role" "ApiKeyRole" NOT NULL,
    "queues" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "task_types" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "api_key_id" UUID,
    "actor" TEXT,
    "action" TEXT NOT NULL,
    "target" TEXT,
    "details" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "events" (
    "id" BIGSERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "dag_id" TEXT NOT NULL,
    "run_id" TEXT,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "dags_is_active_is_paused_next_dagrun_create_after_idx" ON "dags"("is_active", "is_paused", "next_dagrun_create_after");

-- CreateIndex
CREATE UNIQUE INDEX "dag_versions_dag_id_version_key" ON "dag_versions"("dag_id", "version");

-- CreateIndex
CREATE INDEX "dag_runs_dag_id_state_idx" ON "dag_runs"("dag_id", "state");

-- CreateIndex
CREATE INDEX "dag_runs_state_queued_at_idx" ON "dag_runs"("state", "queued_at");

-- CreateIndex
CREATE INDEX "dag_runs_backfill_id_idx" ON "dag_runs"("backfill_id");

-- CreateIndex
CREATE UNIQUE INDEX "dag_runs_dag_id_logical_date_key" ON "dag_runs"("dag_id", "logical_date");

-- CreateIndex
CREATE UNIQUE INDEX "dag_runs_dag_id_run_id_key" ON "dag_runs"("dag_id", "run_id");

-- CreateIndex
CREATE INDEX "task_instances_state_queue_priority_weight_logical_date_idx" ON "task_instances"("state", "queue", "priority_weight" DESC, "logical_date");

-- CreateIndex
CREATE INDEX "task_instances_dag_id_state_idx" ON "task_instances"("dag_id", "state");

-- CreateIndex
CREATE INDEX "task_instances_state_next_retry_at_idx" ON "task_instances"("state", "next_retry_at");

-- CreateIndex
CREATE UNIQUE INDEX "task_instances_dag_run_id_task_id_key" ON "task_instances"("dag_run_id", "task_id");

-- CreateIndex
CREATE UNIQUE INDEX "task_instance_tries_lease_id_key" ON "task_instance_tries"("lease_id");

-- CreateIndex
CREATE UNIQUE INDEX "task_instance_tries_task_instance_id_try_number_key" ON "task_instance_tries"("task_instance_id", "try_number");

-- CreateIndex
CREATE UNIQUE INDEX "leases_task_instance_id_key" ON "leases"("task_instance_id");

-- CreateIndex
CREATE INDEX "leases_expires_at_idx" ON "leases"("expires_at");

-- CreateIndex
CREATE INDEX "leases_pool_idx" ON "leases"("pool");

-- CreateIndex
CREATE INDEX "leases_worker_id_idx" ON "leases"("worker_id");

-- CreateIndex
CREATE INDEX "xcom_dag_id_run_id_idx" ON "xcom"("dag_id", "run_id");

-- CreateIndex
CREATE UNIQUE INDEX "xcom_task_instance_id_key_key" ON "xcom"("task_instance_id", "key");

-- CreateIndex
CREATE INDEX "task_logs_task_instance_id_try_number_id_idx" ON "task_logs"("task_instance_id", "try_number", "id");

-- CreateIndex
CREATE UNIQUE INDEX "datasets_uri_key" ON "datasets"("uri");

-- CreateIndex
CREATE INDEX "dataset_events_dataset_id_timestamp_idx" ON "dataset_events"("dataset_id", "timestamp");

-- CreateIndex
CREATE INDEX "backfills_dag_id_idx" ON "backfills"("dag_id");

-- CreateIndex
CREATE UNIQUE INDEX "backfill_runs_backfill_id_logical_date_key" ON "backfill_runs"("backfill_id", "logical_date");

-- CreateIndex
CREATE UNIQUE INDEX "sla_misses_task_instance_id_key" ON "sla_misses"("task_instance_id");

-- CreateIndex
CREATE INDEX "sla_misses_dag_id_detected_at_idx" ON "sla_misses"("dag_id", "detected_at");

-- CreateIndex
CREATE INDEX "sla_callback_deliveries_state_next_attempt_at_idx" ON "sla_callback_deliveries"("state", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "sla_callback_deliveries_sla_miss_id_callback_index_key" ON "sla_callback_deliveries"("sla_miss_id", "callback_index");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "audit_log_at_idx" ON "audit_log"("at");

-- CreateIndex
CREATE INDEX "events_dag_id_id_idx" ON "events"("dag_id", "id");

-- AddForeignKey
ALTER TABLE "dag_versions" ADD CONSTRAINT "dag_versions_dag_id_fkey" FOREIGN KEY ("dag_id") REFERENCES "dags"("dag_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dag_runs" ADD CONSTRAINT "dag_runs_dag_id_fkey" FOREIGN KEY ("dag_id") REFERENCES "dags"("dag_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dag_runs" ADD CONSTRAINT "dag_runs_dag_version_id_fkey" FOREIGN KEY ("dag_version_id") REFERENCES "dag_versions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dag_runs" ADD CONSTRAINT "dag_runs_backfill_id_fkey" FOREIGN KEY ("backfill_id") REFERENCES "backfills"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "task_instances" ADD CONSTRAINT "task_instances_dag_run_id_fkey" FOREIGN KEY ("dag_run_id") REFERENCES "dag_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "task_instance_tries" ADD CONSTRAINT "task_instance_tries_task_instance_id_fkey" FOREIGN KEY ("task_instance_id") REFERENCES "task_instances"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "leases" ADD CONSTRAINT "leases_task_instance_id_fkey" FOREIGN KEY ("task_instance_id") REFERENCES "task_instances"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "leases" ADD CONSTRAINT "leases_worker_id_fkey" FOREIGN KEY ("worker_id") REFERENCES "workers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "xcom" ADD CONSTRAINT "xcom_task_instance_id_fkey" FOREIGN KEY ("task_instance_id") REFERENCES "task_instances"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "task_logs" ADD CONSTRAINT "task_logs_task_instance_id_fkey" FOREIGN KEY ("task_instance_id") REFERENCES "task_instances"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dataset_events" ADD CONSTRAINT "dataset_events_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dataset_consumers" ADD CONSTRAINT "dataset_consumers_dag_id_fkey" FOREIGN KEY ("dag_id") REFERENCES "dags"("dag_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dataset_consumers" ADD CONSTRAINT "dataset_consumers_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dataset_producers" ADD CONSTRAINT "dataset_producers_dag_id_fkey" FOREIGN KEY ("dag_id") REFERENCES "dags"("dag_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dataset_producers" ADD CONSTRAINT "dataset_producers_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dataset_dag_run_queue" ADD CONSTRAINT "dataset_dag_run_queue_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dataset_dag_run_queue" ADD CONSTRAINT "dataset_dag_run_queue_target_dag_id_fkey" FOREIGN KEY ("target_dag_id") REFERENCES "dags"("dag_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "backfills" ADD CONSTRAINT "backfills_dag_id_fkey" FOREIGN KEY ("dag_id") REFERENCES "dags"("dag_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "backfill_runs" ADD CONSTRAINT "backfill_runs_backfill_id_fkey" FOREIGN KEY ("backfill_id") REFERENCES "backfills"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sla_misses" ADD CONSTRAINT "sla_misses_task_instance_id_fkey" FOREIGN KEY ("task_instance_id") REFERENCES "task_instances"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sla_callback_deliveries" ADD CONSTRAINT "sla_callback_deliveries_sla_miss_id_fkey" FOREIGN KEY ("sla_miss_id") REFERENCES "sla_misses"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Seed: the default pool (TaskInstance.pool defaults to it)
INSERT INTO "pools" ("name", "slots", "description", "updated_at") VALUES ('default_pool', 128, 'Default pool', CURRENT_TIMESTAMP);
