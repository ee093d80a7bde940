-- AlterTable
ALTER TABLE "backfills" ADD COLUMN     "clipped_cutoff" TIMESTAMPTZ(3),
ADD COLUMN     "clipped_first_logical_date" TIMESTAMPTZ(3),
ADD COLUMN     "clipped_intervals" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "clipped_last_logical_date" TIMESTAMPTZ(3);
