import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service.js';
import { pendingMigrations } from '../database/migrator.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';

export type Readiness = {
  status: 'ok' | 'unavailable';
  database: 'ok' | 'unreachable';
  pendingMigrations: string[];
  error?: string;
};

/** A readiness probe answers within this, even when the database hangs rather than refuses. */
const DATABASE_CHECK_TIMEOUT_MS = 3000;

@Injectable()
export class HealthService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly lifecycle: Lifecycle,
  ) {}

  /** Red while shutting down (first thing a drain does), when PostgreSQL is unreachable, or with migrations pending. */
  async readiness(): Promise<Readiness> {
    try {
      await withTimeout(this.prisma.$queryRaw`SELECT 1`, DATABASE_CHECK_TIMEOUT_MS);
    } catch (err) {
      return { status: 'unavailable', database: 'unreachable', pendingMigrations: [], error: (err as Error).message };
    }
    const finished = await this.prisma.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL`.catch(() => []);
    const pending = await pendingMigrations(new Set(finished.map((r) => r.migration_name)));
    if (this.lifecycle.draining) return { status: 'unavailable', database: 'ok', pendingMigrations: pending, error: 'shutting down' };
    return { status: pending.length ? 'unavailable' : 'ok', database: 'ok', pendingMigrations: pending };
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the database within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
