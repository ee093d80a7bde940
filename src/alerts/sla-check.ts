import { Injectable, Logger } from '@nestjs/common';
import { EVERY_TICK, type PeriodicJob } from '../common/periodic-job.js';
import type { DagDocument } from '../dags/domain/dag-document.schema.js';
import type { Queryable } from '../database/pg.js';
import { Transactions } from '../database/transactions.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { AlertKind } from './domain/alert.js';
import { AlertsRepository, type NewDelivery } from './alerts.repository.js';
import { AlertsService, type AlertContext } from './alerts.service.js';

/** What an SLA check found about one task instance, as the alert to send to the DAG's slaCallbacks. */
export type SlaFinding = {
  kind: Extract<AlertKind, 'sla_miss' | 'sla_warning'>;
  /** Unique per finding: the deliveries' dedupe keys are made from it. */
  key: string;
  ctx: AlertContext;
  /** The finding's row, on each delivery (slaMissId or slaWarningId). */
  row: Pick<NewDelivery, 'slaMissId' | 'slaWarningId'>;
  /** The warning logged. */
  log: Record<string, unknown> & { msg: string };
};

/**
 * The skeleton of the SLA checks (CheckSlasJob, CheckSlaWarningsJob), a step of every scheduler tick: in one
 * transaction, `record` inserts what is newly found (exactly once per task instance, by the table's unique key) and
 * each finding gets one delivery per slaCallback of its DAG version; returns how many were found.
 */
@Injectable()
export abstract class SlaCheck<Row extends { dagVersionId: number }> implements PeriodicJob<number> {
  abstract readonly name: string;
  readonly interval = EVERY_TICK;
  private readonly logger = new Logger('alerts');

  constructor(
    private readonly transactions: Transactions,
    protected readonly repo: AlertsRepository,
    private readonly alerts: AlertsService,
    protected readonly metrics: MetricsService,
  ) {}

  /** Inserts up to `limit` new findings and returns them. */
  protected abstract record(db: Queryable, now: Date, limit: number): Promise<Row[]>;
  protected abstract finding(row: Row, doc: DagDocument): SlaFinding;
  /** Counts the findings (metrics). */
  protected abstract counted(found: number): void;

  async run(now: Date): Promise<number> {
    const found = await this.transactions.run(async (db) => {
      const rows = await this.record(db, now, 500);
      for (const row of rows) {
        const doc = await this.alerts.document(db, row.dagVersionId);
        const f = this.finding(row, doc);
        await this.repo.insertDeliveries(db, this.alerts.deliveries(doc.slaCallbacks, 'sla', f.key, f.kind, f.ctx).map((d) => ({ ...d, ...f.row })));
        this.logger.warn(f.log);
      }
      return rows.length;
    });
    this.counted(found);
    return found;
  }
}
