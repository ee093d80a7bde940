import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { CONFIG, type Config } from '../config/config.js';
import { PG_POOL, type Queryable } from '../database/pg.js';
import { Transactions } from '../database/transactions.js';
import type { DagDocument, SlaCallback } from '../dags/domain/dag-document.schema.js';
import type { UnitOfWork } from '../database/unit-of-work.js';
import { EngineEvents, type RunFailed, type TaskFailed } from '../engine/engine-events.js';
import { AlertsRepository, type NewDelivery } from './alerts.repository.js';
import { deliveryFailed, type AlertKind, type AlertMessage, type JsonValue } from './channels/alert.js';
import { MAX_DELIVERY_ATTEMPTS, nextDeliveryAttemptAt } from './channels/backoff.js';
import { createAlertDelivery, type AlertDelivery } from './channels/deliver.js';
import { runFields } from '../logging/log-fields.js';
import { SecretsService } from '../secrets/secrets.service.js';
import { resolveCallback } from './domain/resolve-callback.js';
import { OutboundService } from '../outbound/outbound.service.js';

type AlertContext = {
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
 * them (failures: the kernel's taskFailed and runFailed events); a periodic job delivers them with retries and
 * backoff (webhook with an HMAC signature, Slack, email).
 */
@Injectable()
export class AlertsService implements OnApplicationShutdown {
  private readonly logger = new Logger('alerts');
  private delivery: AlertDelivery | null = null;
  private readonly docs = new Map<number, DagDocument>();

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly transactions: Transactions,
    @Inject(CONFIG) private readonly config: Config,
    private readonly repo: AlertsRepository,
    private readonly secrets: SecretsService,
    private readonly outbound: OutboundService,
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

  /** One SLA-checker pass: records new misses (exactly once each) and their deliveries in one transaction. */
  async checkSlas(now: Date): Promise<number> {
    return this.transactions.run(async (db) => {
      const misses = await this.repo.recordSlaMisses(db, now, 500);
      for (const m of misses) {
        const doc = await this.document(db, m.dagVersionId);
        const task = doc.tasks.find((t) => t.taskId === m.taskId);
        const ctx: AlertContext = {
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
        };
        const items = this.deliveries(doc.slaCallbacks, 'sla', `sla:${m.taskInstanceId}`, 'sla_miss', ctx).map((d) => ({ ...d, slaMissId: m.id }));
        await this.repo.insertDeliveries(db, items);
        this.logger.warn({ msg: `SLA missed: ${m.dagId}/${m.runId}/${m.taskId} (deadline ${m.deadline.toISOString()})`, ...runFields(m), taskId: m.taskId });
      }
      return misses.length;
    });
  }

  /**
   * One early-warning pass: records running attempts past their fraction of the p95 (exactly once per task
   * instance) and their deliveries to the DAG's slaCallbacks, in one transaction.
   */
  async checkSlaWarnings(now: Date): Promise<number> {
    return this.transactions.run(async (db) => {
      const warnings = await this.repo.recordSlaWarnings(db, now, 500);
      for (const w of warnings) {
        const doc = await this.document(db, w.dagVersionId);
        const threshold = w.p95Fraction * w.p95Sec;
        const ctx: AlertContext = {
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
        };
        const items = this.deliveries(doc.slaCallbacks, 'sla', `sla_warning:${w.taskInstanceId}`, 'sla_warning', ctx).map((d) => ({ ...d, slaWarningId: w.id }));
        await this.repo.insertDeliveries(db, items);
        this.logger.warn({ msg: `SLA at risk: ${w.dagId}/${w.runId}/${w.taskId} has run ${seconds(w.elapsedSec)} (p95 ${seconds(w.p95Sec)})`, ...runFields(w), taskId: w.taskId });
      }
      return warnings.length;
    });
  }

  /**
   * One delivery pass: PagerDuty resolves are recorded for incidents whose task instance (or run) has succeeded,
   * then due deliveries are claimed (SKIP LOCKED), attempted, and their outcome recorded.
   */
  async deliverDue(now: Date): Promise<number> {
    await this.repo.recordResolutions(this.pool, now);
    const due = await this.repo.claimDue(now, 300, 50);
    for (const d of due) {
      const doc = await this.document(this.pool, d.dagVersionId);
      const callback = (d.callbackList === 'sla' ? doc.slaCallbacks : doc.onFailureCallbacks)[d.callbackIndex];
      const ready = callback ? resolveCallback(callback, this.secrets) : ({ ok: false, error: 'the callback no longer exists in that DAG version' } as const);
      const result = ready.ok ? await this.channels().deliver(ready.callback, d.message) : deliveryFailed(ready.error, false);
      if (result.ok) {
        await this.repo.recordOutcome(d.id, { state: 'delivered', error: null, nextAttemptAt: null, now: new Date() });
        continue;
      }
      const giveUp = !result.retryable || d.attempts >= MAX_DELIVERY_ATTEMPTS;
      this.logger.warn(`alert delivery ${d.id} (${d.message.kind}) attempt ${d.attempts} failed: ${result.error}${giveUp ? ' (giving up)' : ''}`);
      await this.repo.recordOutcome(d.id, {
        state: giveUp ? 'failed' : 'pending',
        error: result.error,
        nextAttemptAt: giveUp ? null : nextDeliveryAttemptAt(d.attempts, new Date()),
        now: new Date(),
      });
    }
    return due.length;
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

  async onApplicationShutdown(): Promise<void> {
    await this.delivery?.close();
  }

  private deliveries(callbacks: SlaCallback[], list: 'sla' | 'failure', key: string, kind: AlertKind, ctx: AlertContext): NewDelivery[] {
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

  private channels(): AlertDelivery {
    const s = this.config.smtp;
    this.delivery ??= createAlertDelivery({
      smtp: s.host ? { host: s.host, port: s.port, secure: s.secure, user: s.user, password: s.password, from: s.from } : undefined,
      guard: this.outbound.callbacks,
    });
    return this.delivery;
  }

  private async document(db: Queryable, versionId: number): Promise<DagDocument> {
    const cached = this.docs.get(versionId);
    if (cached) return cached;
    const doc = await this.repo.versionDocument(db, versionId);
    if (this.docs.size > 200) this.docs.clear();
    this.docs.set(versionId, doc);
    return doc;
  }
}

const round = (sec: number): number => Math.round(sec * 1000) / 1000;
const seconds = (sec: number): string => `${round(sec)} s`;
