-- DropIndex
DROP INDEX "events_stream_seq_key";

-- DropIndex
DROP INDEX "leases_expires_at_idx";

-- DropIndex
DROP INDEX "leases_worker_id_idx";

-- Hand-written (Prisma's schema cannot express partial indexes; its diff leaves them alone). Per task, the claim
-- and the completion wrote ~22 index entries (pg_walinspect over bench/probe-pg-cost.mjs: 40 % of the WAL). Two
-- lease indexes had no reader that needed them: the reaper's expiry scan (expires_at OR deadline_at) cannot use an
-- index on one of them and reads the live leases as it did, and a worker's leases are read only by the workers
-- listing; without expires_at indexed, a heartbeat's update can be HOT. Events get their (stream, seq) entry when
-- they are numbered instead of an entry (stream, NULL) when they are written: readers ask for seq > n, which the
-- partial index answers, and uniqueness only ever concerned numbered events (NULLs are distinct).
CREATE UNIQUE INDEX "events_stream_seq_key" ON "events" ("stream", "seq") WHERE "seq" IS NOT NULL;
