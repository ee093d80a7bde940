import { Injectable } from '@nestjs/common';
import { Periodic } from '../common/periodic-job.js';
import type { Queryable } from '../database/pg.js';
import { runFields } from '../logging/log-fields.js';
import type { NewSlaWarning } from './alerts.repository.js';
import { SlaCheck, type SlaFinding } from './sla-check.js';

/**
 * One early-warning pass: records running attempts past their fraction of the p95 (exactly once per task
 * instance) and their deliveries to the DAG's slaCallbacks, in one transaction.
 */
@Periodic()
@Injectable()
export class CheckSlaWarningsJob extends SlaCheck<NewSlaWarning> {
  readonly name = 'check-sla-warnings';

  protected record(db: Queryable, now: Date, limit: number): Promise<NewSlaWarning[]> {
    return this.repo.recordSlaWarnings(db, now, limit);
  }

  protected finding(w: NewSlaWarning): SlaFinding {
    const threshold = w.p95Fraction * w.p95Sec;
    return {
      kind: 'sla_warning',
      key: `sla_warning:${w.taskInstanceId}`,
      ctx: {
        incidentKey: `sla_warning:ti:${w.taskInstanceId}`,
        taskInstanceId: w.taskInstanceId,
        dagId: w.dagId,
        runId: w.runId,
        taskId: w.taskId,
        logicalDate: w.logicalDate,
        dagVersionId: w.dagVersionId,
        summary: `${w.taskId} (try ${w.tryNumber}) has run ${seconds(w.elapsedSec)}, past ${w.p95Fraction} × its p95 of ${seconds(w.p95Sec)} over the last ${w.samples} successful attempts`,
        details: {
          tryNumber: w.tryNumber,
          startedAt: w.startedAt.toISOString(),
          elapsedSec: round(w.elapsedSec),
          p95Sec: round(w.p95Sec),
          p95Fraction: w.p95Fraction,
          thresholdSec: round(threshold),
          samples: w.samples,
        },
        occurredAt: w.detectedAt,
      },
      row: { slaWarningId: w.id },
      log: { msg: `SLA at risk: ${w.dagId}/${w.runId}/${w.taskId} has run ${seconds(w.elapsedSec)} (p95 ${seconds(w.p95Sec)})`, ...runFields(w), taskId: w.taskId },
    };
  }

  protected counted(found: number): void {
    this.metrics.slaWarnings.inc(found);
  }
}

const round = (sec: number): number => Math.round(sec * 1000) / 1000;
const seconds = (sec: number): string => `${round(sec)} s`;
