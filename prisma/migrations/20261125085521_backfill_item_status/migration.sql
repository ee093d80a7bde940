-- AlterTable
ALTER TABLE "backfill_runs" ADD COLUMN     "reprocess" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "status" TEXT NOT NULL DEFAULT 'pending';

-- CreateIndex
CREATE INDEX "backfill_runs_backfill_id_status_sort_ordinal_idx" ON "backfill_runs"("backfill_id", "status", "sort_ordinal");
