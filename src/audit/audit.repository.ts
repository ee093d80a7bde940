import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../database/pg.js';

export type AuditEntry = { action: string; target: string; details?: Record<string, unknown>; actor?: string | null; apiKeyId?: string | null };
export type AuditRow = { id: string; at: Date; actor: string | null; action: string; target: string | null; details: Record<string, unknown> };

@Injectable()
export class AuditRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** Written inside the caller's transaction, so the record commits with the change. */
  async insert(db: Queryable, e: AuditEntry): Promise<void> {
    await db.query(
      `INSERT INTO audit_log (api_key_id, actor, action, target, details) VALUES ($1, $2, $3, $4, $5)`,
      [e.apiKeyId ?? null, e.actor ?? null, e.action, e.target, JSON.stringify(e.details ?? {})],
    );
  }

  /** Newest first. (By the bigint id: `ORDER BY id` would sort the text column of the same name, putting 5 after 11.) */
  async list(f: { action?: string; target?: string; limit: number; offset: number }): Promise<{ items: AuditRow[]; total: number }> {
    const cond = `($1::text IS NULL OR action = $1) AND ($2::text IS NULL OR target LIKE $2 || '%')`;
    const params = [f.action ?? null, f.target ?? null];
    const [items, total] = await Promise.all([
      this.pool.query<AuditRow>(
        `SELECT id::text, at, actor, action, target, details FROM audit_log WHERE ${cond} ORDER BY audit_log.id DESC LIMIT $3 OFFSET $4`,
        [...params, f.limit, f.offset],
      ),
      this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE ${cond}`, params),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
  }
}
