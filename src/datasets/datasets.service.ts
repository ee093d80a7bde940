import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import type { Page } from '../common/validation.js';
import { inTransaction, PG_POOL } from '../database/pg.js';
import { DatasetsRepository, type DatasetEventRow, type DatasetView } from './datasets.repository.js';

/** Datasets: lineage (producers, consumers), their update events, and updates posted by external systems. */
@Injectable()
export class DatasetsService {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly clock: Clock,
    private readonly repo: DatasetsRepository,
    private readonly audit: AuditService,
  ) {}

  async list(limit: number, offset: number): Promise<Page<DatasetView>> {
    const { items, total } = await this.repo.list(limit, offset);
    return { items, totalEntries: total, limit, offset };
  }

  async events(f: { uri?: string; since?: Date; until?: Date; limit: number; offset: number }): Promise<Page<DatasetEventRow>> {
    const { items, total } = await this.repo.events(f);
    return { items, totalEntries: total, limit: f.limit, offset: f.offset };
  }

  /** An update made outside Weft: recorded like a task's, so DAGs scheduled on the dataset see it. */
  async postEvent(uri: string, extra: Record<string, unknown>): Promise<DatasetEventRow> {
    const [event] = await inTransaction(this.pool, async (db) => {
      const events = await this.repo.recordEvents(db, [uri], {}, extra, this.clock.now());
      await this.audit.record({ action: 'post_dataset_event', target: uri }, db);
      return events;
    });
    return event!;
  }
}
