import { Injectable } from '@nestjs/common';
import type { Queryable } from '../database/pg.js';
import type { AlertKind, AlertMessage, JsonValue } from './domain/alert.js';
import type { DagDocument, SlaCallback } from '../dags/domain/dag-document.schema.js';
import type { UnitOfWork } from '../database/unit-of-work.js';
import { EngineEvents, type RunFailed, type TaskFailed } from '../engine/engine-events.js';
import { AlertsRepository, type NewDelivery } from './alerts.repository.js';

export type AlertContext = {
  /** The condition, the same for every alert about it (AlertMessage.incidentKey), and the rows it is about. */
  incidentKey: string;
  taskInstanceId?: number;
  dagRunId?: number;
  dagId: string;
  runId: string;
  taskId?: string;
  logicalDate: Date;
  dagVersionId: number;
  summary: string;
  details: { [key: string]: JsonValue };
  occurredAt: Date;
};

/**
 * Alerts: SLA misses and failures become one delivery per callback, written in the transaction that detects
 * them (failures: the kernel's taskFailed and runFailed events; SLA misses and warnings: CheckSlasJob,
 * CheckSlaWarningsJob); DeliverAlertsJob delivers them with retries and backoff (webhook with an HMAC signature,
 * Slack, email).
 */
@Injectable()
export class AlertsService {
  private readonly docs = new Map<number, DagDocument>();

  constructor(
    private readonly repo: AlertsRepository,
    events: EngineEvents,
  ) {
    events.taskFailed.on((tx, e) => this.taskFailed(tx, e));
    events.runFailed.on((tx, e) => this.runFailed(tx, e));
  }

  /**
   * A task failed for good: the DAG's onFailureCallbacks are notified. A failure without an attempt (a mapped task
   * that cannot expand, a built-in branch that cannot choose) has no try to key it by: its time does (each such
   * failure is raised once, by the transaction that wrote it; after a clear it may fail again).
   */
  private async taskFailed(tx: UnitOfWork, e: TaskFailed): Promise<void> {
    const name = e.mapIndex >= 0 ? `${e.taskId}[${e.mapIndex}]` : e.taskId;
    const attempt = e.tryNumber > 0 ? `${e.tryNumber}` : `0@${e.at.getTime()}`;
    await this.enqueueFailure(tx, e.doc, 'task_failed', `${e.taskInstanceId}:${attempt}`, {
      incidentKey: `task_failed:ti:${e.taskInstanceId}`,
      taskInstanceId: e.taskInstanceId,
      dagId: e.dagId,
      runId: e.runId,
      taskId: e.taskId,
      logicalDate: e.logicalDate,
      dagVersionId: e.dagVersionId,
      summary: e.tryNumber > 0
        ? `${name} failed on try ${e.tryNumber} of ${e.maxTries}${e.error ? `: ${e.error}` : ''}`
        : `${name} failed without running${e.error ? `: ${e.error}` : ''}`,
      details: { mapIndex: e.mapIndex, tryNumber: e.tryNumber, maxTries: e.maxTries, error: e.error },
      occurredAt: e.at,
    });
  }

  /** A run failed: the DAG's onFailureCallbacks are notified. */
  private async runFailed(tx: UnitOfWork, e: RunFailed): Promise<void> {
    await this.enqueueFailure(tx, e.doc, 'run_failed', `${e.dagRunId}:${e.clearNumber}`, {
      incidentKey: `run_failed:run:${e.dagRunId}`,
      dagRunId: e.dagRunId,
      dagId: e.dagId,
      runId: e.runId,
      logicalDate: e.logicalDate,
      dagVersionId: e.dagVersionId,
      summary: `run ${e.runId} failed (failed tasks: ${e.failedTasks.join(', ') || 'none'})`,
      details: { failedTasks: e.failedTasks },
      occurredAt: e.at,
    });
  }

  private async enqueueFailure(db: Queryable, doc: DagDocument, kind: Extract<AlertKind, 'task_failed' | 'run_failed'>, key: string, ctx: AlertContext): Promise<void> {
    await this.repo.insertDeliveries(db, this.deliveries(doc.onFailureCallbacks, 'failure', `${kind}:${key}`, kind, ctx));
  }

  async listSlaMisses(f: { dagId?: string; since?: Date; limit: number; offset: number }) {
    const { items, total } = await this.repo.listSlaMisses(f);
    return { items, totalEntries: total, limit: f.limit, offset: f.offset };
  }

  async listSlaWarnings(f: { dagId?: string; since?: Date; limit: number; offset: number }) {
    const { items, total } = await this.repo.listSlaWarnings(f);
    return { items, totalEntries: total, limit: f.limit, offset: f.offset };
  }

  async listDeliveries(f: { dagId?: string; kind?: string; state?: string; limit: number; offset: number }) {
    const { items, total } = await this.repo.listDeliveries(f);
    return { items, totalEntries: total, limit: f.limit, offset: f.offset };
  }

  /** One delivery per callback of `callbacks` (the DAG's `list`), for the condition in `ctx`; `key` makes them unique. */
  deliveries(callbacks: SlaCallback[], list: 'sla' | 'failure', key: string, kind: AlertKind, ctx: AlertContext): NewDelivery[] {
    return callbacks.map((cb, i) => {
      const message: AlertMessage = {
        kind,
        dagId: ctx.dagId,
        runId: ctx.runId,
        ...(ctx.taskId ? { taskId: ctx.taskId } : {}),
        logicalDate: ctx.logicalDate.toISOString(),
        summary: ctx.summary,
        details: ctx.details,
        occurredAt: ctx.occurredAt.toISOString(),
        deliveryId: `${key}:${list}:${i}`,
        incidentKey: ctx.incidentKey,
      };
      return {
        dedupeKey: message.deliveryId,
        dagId: ctx.dagId,
        dagVersionId: ctx.dagVersionId,
        callbackList: list,
        callbackIndex: i,
        channel: cb.type,
        message,
        taskInstanceId: ctx.taskInstanceId ?? null,
        dagRunId: ctx.dagRunId ?? null,
      };
    });
  }

  /** A DAG version's document, cached (versions never change). */
  async document(db: Queryable, versionId: number): Promise<DagDocument> {
    const cached = this.docs.get(versionId);
    if (cached) return cached;
    const doc = await this.repo.versionDocument(db, versionId);
    if (this.docs.size > 200) this.docs.clear();
    this.docs.set(versionId, doc);
    return doc;
  }
}

