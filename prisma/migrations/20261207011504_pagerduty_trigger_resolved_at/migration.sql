-- AlterTable
ALTER TABLE "alert_deliveries" ADD COLUMN     "resolved_at" TIMESTAMPTZ(3);
