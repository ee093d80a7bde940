import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../database/pg.js';
import type { RetentionKind } from './domain/retention-plan.js';

/** Session-level advisory lock: one clean-up pass at a time across every scheduler on the database. */
const RETENTION_LOCK = 'weft.retention';

/**
 * Batched deletes of old history. Each statement deletes at most `limit` rows picked with FOR UPDATE SKIP LOCKED,
 * so it never waits on (or blocks) rows a live transaction holds, and returns how many it deleted.
 */
@Injectable()
export class RetentionRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** Runs `fn` on one connection holding the clean-up lock; null (without running it) when another holder has it. */
  async withLock<T>(fn: (db: Queryable) => Promise<T>): Promise<T | null> {
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [RETENTION_LOCK]);
      if (!rows[0]!.ok) return null;
      try {
        return await fn(client);
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [RETENTION_LOCK]);
      }
    } finally {
      client.release();
    }
  }

  /** One batch of `kind`; `boundary` (task logs only) bounds the id range, see taskLogBoundary. */
  async deleteBatch(db: Queryable, kind: RetentionKind, cutoff: Date, limit: number, boundary?: string): Promise<number> {
    switch (kind) {
      case 'runs':
        // Finished runs only. The newest scheduled run of each DAG stays: the scheduler continues from it, and
        // without it would create every interval since startDate again (catchup).
        return this.exec(
          db,
          `DELETE FROM dag_runs WHERE id IN (
             SELECT r.id FROM dag_runs r
             WHERE r.state IN ('success', 'failed') AND r.end_date < $1
               AND NOT (r.run_type = 'scheduled' AND r.logical_date =
                 (SELECT max(m.logical_date) FROM dag_runs m WHERE m.dag_id = r.dag_id AND m.run_type = 'scheduled'))
             ORDER BY r.id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
          [cutoff, limit],
        );
      case 'task_tries':
        return this.exec(
          db,
          `DELETE FROM task_instance_tries WHERE id IN (
             SELECT id FROM task_instance_tries WHERE end_date < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
          [cutoff, limit],
        );
      case 'task_logs':
        // Within the id range below the boundary, walked along the primary key: no index on `at` is needed.
        return this.exec(
          db,
          `DELETE FROM task_logs WHERE id IN (
             SELECT id FROM task_logs WHERE id < $3::bigint AND at < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
          [cutoff, limit, boundary ?? '0'],
        );
      case 'xcom':
        // Only XCom of finished runs: a run still going may have tasks that have yet to pull it.
        return this.exec(
          db,
          `DELETE FROM xcom WHERE id IN (
             SELECT x.id FROM xcom x JOIN task_instances ti ON ti.id = x.task_instance_id JOIN dag_runs r ON r.id = ti.dag_run_id
             WHERE x.created_at < $1 AND r.state IN ('success', 'failed') LIMIT $2 FOR UPDATE OF x SKIP LOCKED)`,
          [cutoff, limit],
        );
      case 'dataset_events':
        return this.exec(
          db,
          `DELETE FROM dataset_events WHERE id IN (
             SELECT id FROM dataset_events WHERE timestamp < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
          [cutoff, limit],
        );
      case 'audit':
        return this.exec(
          db,
          `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
          [cutoff, limit],
        );
      case 'webhook_deliveries':
        // Finished ones only (delivered, or rejected by the receiver): a pending delivery (a webhook down, or
        // disabled) waits however old it is.
        return this.exec(
          db,
          `DELETE FROM webhook_deliveries WHERE id IN (
             SELECT id FROM webhook_deliveries WHERE state IN ('delivered', 'failed') AND created_at < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
          [cutoff, limit],
        );
      case 'events': {
        // The subscription outbox, numbered or not, under the numberer's lock (weft_events_prune).
        const { rows } = await db.query<{ n: number }>('SELECT weft_events_prune($1, $2) AS n', [cutoff, limit]);
        return rows[0]?.n ?? 0;
      }
    }
  }

  /**
   * The first task-log id whose line is at or after `cutoff` (one past the last id when none is). Log lines are
   * appended with the time of appending, so `at` grows with the id; a binary search over the primary key finds the
   * boundary in a few dozen index probes, where a scan by `at` would read the whole table.
   */
  async taskLogBoundary(db: Queryable, cutoff: Date): Promise<string> {
    const { rows } = await db.query<{ lo: string | null; hi: string | null }>('SELECT min(id)::text AS lo, max(id)::text AS hi FROM task_logs');
    if (rows[0]!.lo === null) return '0';
    let lo = BigInt(rows[0]!.lo);
    let hi = BigInt(rows[0]!.hi!) + 1n;
    while (lo < hi) {
      const mid = lo + (hi - lo) / 2n;
      const { rows: probe } = await db.query<{ id: string; old: boolean }>(
        'SELECT id::text AS id, at < $2 AS old FROM task_logs WHERE id >= $1::bigint ORDER BY task_logs.id LIMIT 1',
        [mid.toString(), cutoff],
      );
      // Invariant: every line below `lo` is old; every line at or above `hi` is not (or does not exist).
      const row = probe[0];
      if (row?.old) lo = BigInt(row.id) + 1n;
      else hi = mid;
    }
    return lo.toString();
  }

  private async exec(db: Queryable, sql: string, params: unknown[]): Promise<number> {
    return (await db.query(sql, params)).rowCount ?? 0;
  }
}
