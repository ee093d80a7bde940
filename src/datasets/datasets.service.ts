import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import type { Page } from '../common/validation.js';
import type { Queryable } from '../database/pg.js';
import { Transactions } from '../database/transactions.js';
import type { DagDocument } from '../dags/domain/dag-document.schema.js';
import { EngineEvents } from '../engine/engine-events.js';
import { DatasetsRepository, type DatasetEventRow, type DatasetView } from './datasets.repository.js';

/**
 * Datasets: lineage (producers, consumers), their update events, and updates posted by external systems. A task's
 * outlets are recorded in the transaction of its success (the kernel's outletsUpdated event).
 */
@Injectable()
export class DatasetsService {
  constructor(
    private readonly transactions: Transactions,
    private readonly clock: Clock,
    private readonly repo: DatasetsRepository,
    private readonly audit: AuditService,
    events: EngineEvents,
  ) {
    events.outletsUpdated.on(async (tx, e) => {
      await this.repo.recordEvents(tx, e.uris, { dagId: e.dagId, runId: e.runId, taskId: e.taskId, tryNumber: e.tryNumber }, {}, e.at);
    });
  }

  /** Dataset lineage follows a DAG's latest version: called in the transaction that registers a new version. */
  async syncLineage(db: Queryable, doc: DagDocument): Promise<void> {
    const outlets = doc.tasks.flatMap((t) => (t.outlets ?? []).map((uri) => ({ taskId: t.taskId, uri })));
    const consumes = doc.schedule && typeof doc.schedule === 'object' ? doc.schedule.datasets : [];
    await this.repo.syncReferences(db, doc.dagId, outlets, consumes);
  }

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
    const [event] = await this.transactions.run(async (db) => {
      const events = await this.repo.recordEvents(db, [uri], {}, extra, this.clock.now());
      await this.audit.record({ action: 'post_dataset_event', target: uri }, db);
      return events;
    });
    return event!;
  }
}
