import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service.js';
import { pendingMigrations } from '../database/migrator.js';

export type Readiness = {
  status: 'ok' | 'unavailable';
  database: 'ok' | 'unreachable';
  pendingMigrations: string[];
  error?: string;
};

@Injectable()
export class HealthService {
  constructor(private readonly prisma: PrismaService) {}

  async readiness(): Promise<Readiness> {
    try {
      await this.prisma.$queryRaw`SELECT 1`;
    } catch (err) {
      return { status: 'unavailable', database: 'unreachable', pendingMigrations: [], error: (err as Error).message };
    }
    const finished = await this.prisma.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL`.catch(() => []);
    const pending = await pendingMigrations(new Set(finished.map((r) => r.migration_name)));
    return { status: pending.length ? 'unavailable' : 'ok', database: 'ok', pendingMigrations: pending };
  }
}
