import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { EVERY_TICK, Periodic, type PeriodicJob } from '../common/periodic-job.js';
import { CONFIG, type Config } from '../config/config.js';
import { PG_POOL } from '../database/pg.js';
import { OutboundService } from '../outbound/outbound.service.js';
import { SecretsService } from '../secrets/secrets.service.js';
import { AlertsRepository } from './alerts.repository.js';
import { AlertsService } from './alerts.service.js';
import { deliveryFailed } from './channels/alert.js';
import { MAX_DELIVERY_ATTEMPTS, nextDeliveryAttemptAt } from './channels/backoff.js';
import { createAlertDelivery, type AlertDelivery } from './channels/deliver.js';
import { resolveCallback } from './domain/resolve-callback.js';

/**
 * One delivery pass: PagerDuty resolves are recorded for incidents whose task instance (or run) has succeeded,
 * then due deliveries are claimed (SKIP LOCKED), attempted, and their outcome recorded.
 */
@Periodic()
@Injectable()
export class DeliverAlertsJob implements PeriodicJob<number>, OnApplicationShutdown {
  readonly name = 'deliver-alerts';
  readonly interval = EVERY_TICK;
  private readonly logger = new Logger('alerts');
  private delivery: AlertDelivery | null = null;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(CONFIG) private readonly config: Config,
    private readonly repo: AlertsRepository,
    private readonly alerts: AlertsService,
    private readonly secrets: SecretsService,
    private readonly outbound: OutboundService,
  ) {}

  async run(now: Date): Promise<number> {
    await this.repo.recordResolutions(this.pool, now);
    const due = await this.repo.claimDue(now, 300, 50);
    for (const d of due) {
      const doc = await this.alerts.document(this.pool, d.dagVersionId);
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

  async onApplicationShutdown(): Promise<void> {
    await this.delivery?.close();
  }

  private channels(): AlertDelivery {
    const s = this.config.smtp;
    this.delivery ??= createAlertDelivery({
      smtp: s.host ? { host: s.host, port: s.port, secure: s.secure, user: s.user, password: s.password, from: s.from } : undefined,
      guard: this.outbound.callbacks,
    });
    return this.delivery;
  }
}
