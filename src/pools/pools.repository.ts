import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../database/pg.js';

export type PoolView = {
  name: string;
  slots: number;
  description: string | null;
  runningSlots: number;
  queuedSlots: number;
  openSlots: number;
};

/** Occupancy is derived, never stored: running = slots held by live leases, queued = slots asked by queued tasks. */
const POOL_VIEW = `
  SELECT p.name, p.slots, p.description,
    l.used AS "runningSlots",
    coalesce(q.asked, 0)::int AS "queuedSlots",
    p.slots - l.used AS "openSlots"
  FROM pools p
  CROSS JOIN LATERAL (SELECT weft_pool_slots_used(p.name) AS used) l
  LEFT JOIN (SELECT pool, sum(pool_slots) AS asked FROM task_instances WHERE state = 'queued' GROUP BY pool) q ON q.pool = p.name`;

@Injectable()
export class PoolsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async list(limit: number, offset: number): Promise<{ items: PoolView[]; total: number }> {
    const [items, total] = await Promise.all([
      this.pool.query<PoolView>(`${POOL_VIEW} ORDER BY p.name LIMIT $1 OFFSET $2`, [limit, offset]),
      this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pools'),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
  }

  async get(name: string): Promise<PoolView | null> {
    const { rows } = await this.pool.query<PoolView>(`${POOL_VIEW} WHERE p.name = $1`, [name]);
    return rows[0] ?? null;
  }

  /** Which of `names` are pools. */
  async existing(names: string[]): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ name: string }>('SELECT name FROM pools WHERE name = ANY($1::text[])', [names]);
    return new Set(rows.map((r) => r.name));
  }

  /** false when a pool of that name exists already. */
  async create(db: Queryable, name: string, slots: number, description: string | null): Promise<boolean> {
    const { rowCount } = await db.query(
      `INSERT INTO pools (name, slots, description, updated_at) VALUES ($1, $2, $3, now()) ON CONFLICT (name) DO NOTHING`,
      [name, slots, description],
    );
    return rowCount === 1;
  }

  async update(db: Queryable, name: string, patch: { slots?: number; description?: string | null }): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE pools SET slots = coalesce($2, slots),
         description = CASE WHEN $3 THEN $4 ELSE description END, updated_at = now()
       WHERE name = $1`,
      [name, patch.slots ?? null, patch.description !== undefined, patch.description ?? null],
    );
    return rowCount === 1;
  }

  /** Deletes an unused pool; 'in_use' when live leases or waiting tasks still refer to it. */
  async delete(db: Queryable, name: string): Promise<'deleted' | 'missing' | 'in_use'> {
    const { rows } = await db.query<{ outcome: 'deleted' | 'missing' | 'in_use' }>(
      `WITH target AS (SELECT name FROM pools WHERE name = $1 FOR UPDATE),
         used AS (SELECT 1 FROM leases WHERE pool = $1 UNION ALL SELECT 1 FROM task_instances WHERE pool = $1 AND state = 'queued' LIMIT 1),
         gone AS (DELETE FROM pools WHERE name IN (SELECT name FROM target) AND NOT EXISTS (SELECT 1 FROM used) RETURNING 1)
       SELECT CASE WHEN EXISTS (SELECT 1 FROM gone) THEN 'deleted'
                   WHEN NOT EXISTS (SELECT 1 FROM target) THEN 'missing' ELSE 'in_use' END AS outcome`,
      [name],
    );
    return rows[0]!.outcome;
  }
}
