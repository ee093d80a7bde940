import { Injectable } from '@nestjs/common';
import { Periodic } from '../common/periodic-job.js';
import type { DagDocument } from '../dags/domain/dag-document.schema.js';
import type { Queryable } from '../database/pg.js';
import { runFields } from '../logging/log-fields.js';
import type { NewSlaMiss } from './alerts.repository.js';
import { SlaCheck, type SlaFinding } from './sla-check.js';

/** One SLA-checker pass: records new misses (exactly once each) and their deliveries in one transaction. */
@Periodic()
@Injectable()
export class CheckSlasJob extends SlaCheck<NewSlaMiss> {
  readonly name = 'check-slas';

  protected record(db: Queryable, now: Date, limit: number): Promise<NewSlaMiss[]> {
    return this.repo.recordSlaMisses(db, now, limit);
  }

  protected finding(m: NewSlaMiss, doc: DagDocument): SlaFinding {
    const task = doc.tasks.find((t) => t.taskId === m.taskId);
    return {
      kind: 'sla_miss',
      key: `sla:${m.taskInstanceId}`,
      ctx: {
        incidentKey: `sla_miss:ti:${m.taskInstanceId}`,
        taskInstanceId: m.taskInstanceId,
        dagId: m.dagId,
        runId: m.runId,
        taskId: m.taskId,
        logicalDate: m.logicalDate,
        dagVersionId: m.dagVersionId,
        summary: `${m.taskId} did not finish within ${task?.sla ?? 'its SLA'} after the data interval ended (deadline ${m.deadline.toISOString()})`,
        details: { sla: task?.sla ?? null, deadline: m.deadline.toISOString(), taskState: m.state },
        occurredAt: m.detectedAt,
      },
      row: { slaMissId: m.id },
      log: { msg: `SLA missed: ${m.dagId}/${m.runId}/${m.taskId} (deadline ${m.deadline.toISOString()})`, ...runFields(m), taskId: m.taskId },
    };
  }

  protected counted(found: number): void {
    this.metrics.slaMisses.inc(found);
  }
}
