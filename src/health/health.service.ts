import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL } from '../database/pg.js';
import { pendingMigrations } from '../database/migrator.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';

export type Readiness = {
  status: 'ok' | 'unavailable';
  database: 'ok' | 'unreachable' | 'read_only';
  pendingMigrations: string[];
  error?: string;
};

/** A readiness probe answers within this, even when the database hangs rather than refuses. */
const DATABASE_CHECK_TIMEOUT_MS = 3000;

@Injectable()
export class HealthService {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly lifecycle: Lifecycle,
  ) {}

  /**
   * Red while shutting down (first thing a drain does), when PostgreSQL is unreachable or read-only (a failover in
   * progress: every write would fail), or with migrations pending.
   */
  async readiness(): Promise<Readiness> {
    try {
      if (await withTimeout(this.readOnly(), DATABASE_CHECK_TIMEOUT_MS)) {
        return { status: 'unavailable', database: 'read_only', pendingMigrations: [], error: 'the database accepts no writes (read-only: a failover in progress?)' };
      }
    } catch (err) {
      return { status: 'unavailable', database: 'unreachable', pendingMigrations: [], error: (err as Error).message };
    }
    const finished = await this.pool
      .query<{ migration_name: string }>('SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL')
      .then((r) => r.rows, () => []);
    const pending = await pendingMigrations(new Set(finished.map((r) => r.migration_name)));
    if (this.lifecycle.draining) return { status: 'unavailable', database: 'ok', pendingMigrations: pending, error: 'shutting down' };
    return { status: pending.length ? 'unavailable' : 'ok', database: 'ok', pendingMigrations: pending };
  }

  /**
   * Whether a session of the pool is read-only (a standby, or a database set read-only). Such a session is dropped
   * rather than returned to the pool: it would stay read-only once a writable primary is back.
   */
  private async readOnly(): Promise<boolean> {
    const client = await this.pool.connect();
    let readOnly = false;
    try {
      const { rows } = await client.query<{ ro: boolean }>(`SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on' AS ro`);
      readOnly = rows[0]!.ro;
    } catch (err) {
      client.release(err as Error);
      throw err;
    }
    client.release(readOnly ? new Error('read-only session') : undefined);
    return readOnly;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the database within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
