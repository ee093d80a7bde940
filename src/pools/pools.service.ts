import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { ConflictError, NotFoundError } from '../common/errors.js';
import type { Page } from '../common/validation.js';
import { Transactions } from '../database/transactions.js';
import { PoolsRepository, type PoolView } from './pools.repository.js';

export const DEFAULT_POOL = 'default_pool';

/** Pools cap concurrently running tasks across all DAGs; the lease claim enforces them. */
@Injectable()
export class PoolsService {
  constructor(
    private readonly repo: PoolsRepository,
    private readonly audit: AuditService,
    private readonly transactions: Transactions,
  ) {}

  async list(limit: number, offset: number): Promise<Page<PoolView>> {
    const { items, total } = await this.repo.list(limit, offset);
    return { items, totalEntries: total, limit, offset };
  }

  /** Which of `names` are pools (registration warns about the others). */
  existing(names: string[]): Promise<Set<string>> {
    return this.repo.existing(names);
  }

  async get(name: string): Promise<PoolView> {
    const pool = await this.repo.get(name);
    if (!pool) throw new NotFoundError('pool', name);
    return pool;
  }

  async create(p: { name: string; slots: number; description?: string }): Promise<PoolView> {
    await this.transactions.run(async (db) => {
      if (!(await this.repo.create(db, p.name, p.slots, p.description ?? null))) {
        throw new ConflictError(`pool '${p.name}' already exists`, 'pool_exists');
      }
      await this.audit.record({ action: 'create_pool', target: p.name, details: { slots: p.slots } }, db);
    });
    return this.get(p.name);
  }

  async update(name: string, patch: { slots?: number; description?: string | null }): Promise<PoolView> {
    await this.transactions.run(async (db) => {
      if (!(await this.repo.update(db, name, patch))) throw new NotFoundError('pool', name);
      await this.audit.record({ action: 'update_pool', target: name, details: patch }, db);
    });
    return this.get(name);
  }

  async delete(name: string): Promise<void> {
    if (name === DEFAULT_POOL) throw new ConflictError(`'${DEFAULT_POOL}' cannot be deleted`, 'default_pool');
    await this.transactions.run(async (db) => {
      const outcome = await this.repo.delete(db, name);
      if (outcome === 'missing') throw new NotFoundError('pool', name);
      if (outcome === 'in_use') throw new ConflictError(`pool '${name}' is in use by running or queued tasks`, 'pool_in_use');
      await this.audit.record({ action: 'delete_pool', target: name }, db);
    });
  }
}
