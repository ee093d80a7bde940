import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../../database/pg.js';
import { MARKER_STREAM, parseMarker, type Dropped } from './domain/log-cap.js';
import type { TailLine } from './domain/log-tail.js';

/** Size accounting and trimming of one try's log lines (the per-try cap). */
@Injectable()
export class TaskLogsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** Up to `limit` lines of a task instance (one try, or all) after line `afterId`, in order (the log tails' read). */
  async linesAfter(taskInstanceId: number, tryNumber: number | null, afterId: string, limit: number): Promise<TailLine[]> {
    const { rows } = await this.pool.query<TailLine>(
      `SELECT id::text AS id, try_number AS "tryNumber", line, stream, at FROM task_logs
        WHERE task_instance_id = $1 AND ($2::int IS NULL OR try_number = $2) AND id > $3::bigint
        ORDER BY id LIMIT $4`,
      [taskInstanceId, tryNumber, afterId, limit],
    );
    return rows;
  }

  /** Serialises trimmers of one task instance (two-key advisory lock: this namespace, the task instance id). */
  async lockTry(db: Queryable, taskInstanceId: number): Promise<void> {
    await db.query('SELECT pg_advisory_xact_lock(1717987684, $1)', [taskInstanceId]);
  }

  /** Bytes of the try's lines, the marker excepted (an index range scan over that try's lines). */
  async storedBytes(db: Queryable, taskInstanceId: number, tryNumber: number): Promise<number> {
    const { rows } = await db.query<{ bytes: string }>(
      `SELECT coalesce(sum(octet_length(line)), 0)::bigint AS bytes FROM task_logs
       WHERE task_instance_id = $1 AND try_number = $2 AND stream <> $3`,
      [taskInstanceId, tryNumber, MARKER_STREAM],
    );
    return Number(rows[0]!.bytes);
  }

  /**
   * Deletes the try's oldest lines until at least `excess` bytes are gone, and puts one marker line in the place
   * of the last one deleted (so it sorts before every line kept), stating the totals dropped so far.
   */
  async trimOldest(
    db: Queryable,
    taskInstanceId: number,
    tryNumber: number,
    excess: number,
    marker: (total: Dropped) => string,
    now: Date,
  ): Promise<Dropped> {
    const { rows } = await db.query<{ lines: number; bytes: string; lastId: string | null }>(
      `WITH ordered AS (
         SELECT id, octet_length(line) AS b, sum(octet_length(line)) OVER (ORDER BY id) AS cum
         FROM task_logs WHERE task_instance_id = $1 AND try_number = $2 AND stream <> $4
       ), gone AS (
         DELETE FROM task_logs t USING ordered o WHERE t.id = o.id AND o.cum - o.b < $3 RETURNING t.id, o.b
       )
       SELECT count(*)::int AS lines, coalesce(sum(b), 0)::bigint AS bytes, max(id)::text AS "lastId" FROM gone`,
      [taskInstanceId, tryNumber, excess, MARKER_STREAM],
    );
    const dropped = { lines: rows[0]!.lines, bytes: Number(rows[0]!.bytes) };
    const lastId = rows[0]!.lastId;
    if (!lastId) return dropped;
    const { rows: old } = await db.query<{ line: string }>(
      'DELETE FROM task_logs WHERE task_instance_id = $1 AND try_number = $2 AND stream = $3 RETURNING line',
      [taskInstanceId, tryNumber, MARKER_STREAM],
    );
    const before = old.map((o) => parseMarker(o.line)).reduce((a, b) => ({ lines: a.lines + b.lines, bytes: a.bytes + b.bytes }), { lines: 0, bytes: 0 });
    const total = { lines: before.lines + dropped.lines, bytes: before.bytes + dropped.bytes };
    // The id of the last deleted line is free and sorts before every line kept.
    await db.query(
      'INSERT INTO task_logs (id, task_instance_id, try_number, line, stream, at) VALUES ($1::bigint, $2, $3, $4, $5, $6)',
      [lastId, taskInstanceId, tryNumber, marker(total), MARKER_STREAM, now],
    );
    return dropped;
  }
}
