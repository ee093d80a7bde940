import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../database/pg.js';
import type { ApiKeyRow, Role } from './domain/api-key.js';

/** NOTIFY channel announcing revoked keys (payload: the key's id) to every replica's key cache. */
export const API_KEYS_CHANNEL = 'weft_api_keys';

const COLUMNS = `id, name, prefix, role, queues, task_types AS "taskTypes", created_at AS "createdAt",
  last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"`;

/** api_keys: only hashes are stored; a key is found by the hash of what the client sends. */
@Injectable()
export class ApiKeysRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async insert(db: Queryable | null, k: { name: string; prefix: string; keyHash: string; role: Role; queues: string[]; taskTypes: string[] }): Promise<ApiKeyRow> {
    const { rows } = await (db ?? this.pool).query<ApiKeyRow>(
      `INSERT INTO api_keys (id, name, prefix, key_hash, role, queues, task_types)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [k.name, k.prefix, k.keyHash, k.role, k.queues, k.taskTypes],
    );
    return rows[0]!;
  }

  async findActiveByHash(keyHash: string): Promise<ApiKeyRow | null> {
    const { rows } = await this.pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [keyHash]);
    return rows[0] ?? null;
  }

  async findActiveById(id: string): Promise<ApiKeyRow | null> {
    const { rows } = await this.pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1 AND revoked_at IS NULL`, [id]);
    return rows[0] ?? null;
  }

  /** Which of these key ids are still valid (one query for every key with a long-lived session in this process). */
  async activeIds(ids: string[]): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM api_keys WHERE id = ANY($1::uuid[]) AND revoked_at IS NULL', [ids]);
    return new Set(rows.map((r) => r.id));
  }

  async findByHash(db: Queryable, keyHash: string): Promise<ApiKeyRow | null> {
    const { rows } = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1`, [keyHash]);
    return rows[0] ?? null;
  }

  async touch(id: string, now: Date): Promise<void> {
    await this.pool.query('UPDATE api_keys SET last_used_at = $2 WHERE id = $1', [id, now]);
  }

  async list(limit: number, offset: number): Promise<{ items: ApiKeyRow[]; total: number }> {
    const [items, total] = await Promise.all([
      this.pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at DESC LIMIT $1 OFFSET $2`, [limit, offset]),
      this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys'),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
  }

  async revoke(db: Queryable, id: string, now: Date): Promise<ApiKeyRow | null> {
    // Announced in the same statement: every replica drops the key from its cache when this commits.
    const { rows } = await db.query<ApiKeyRow>(
      `WITH revoked AS (UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING ${COLUMNS})
       SELECT revoked.* FROM revoked CROSS JOIN LATERAL pg_notify('${API_KEYS_CHANNEL}', revoked.id::text) AS n`,
      [id, now],
    );
    return rows[0] ?? null;
  }

  async countActiveAdmins(db: Queryable): Promise<number> {
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL`);
    return rows[0]!.n;
  }
}
