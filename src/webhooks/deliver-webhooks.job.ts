import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { DEFAULT_HTTP_TIMEOUT_MS, postOnce } from '../alerts/channels/http-post.js';
import { signWebhookPayload } from '../alerts/channels/webhook.channel.js';
import { resolveCallback } from '../alerts/domain/resolve-callback.js';
import { Periodic, type PeriodicJob } from '../common/periodic-job.js';
import { CONFIG, type Config } from '../config/config.js';
import { Transactions } from '../database/transactions.js';
import { EventsOutbox } from '../events/events-outbox.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { OutboundService } from '../outbound/outbound.service.js';
import { SecretsService } from '../secrets/secrets.service.js';
import { nextWebhookAttemptAt, shouldDisable, webhookBody, webhookFailureOutcome } from './domain/webhook-body.js';
import { WebhooksRepository, type ClaimedDelivery } from './webhooks.repository.js';

/** Deliveries claimed per pass (at most one per webhook and stream, sent in parallel). */
const CLAIM_LIMIT = 32;
/** A claimed delivery is not taken by another replica for this long (well above one attempt's timeout). */
const CLAIM_LEASE_SEC = 60;
/** How long committing writers keep NOTIFYing for this process after a pass that saw an enabled webhook. */
const NOTIFY_TTL_SEC = 30;
/** Events numbered per call of the outbox's numberer. */
const NUMBER_BATCH = 5_000;

/**
 * One pass of webhook delivery, safe on several replicas at once: numbers the outbox (which fans new events out to
 * the webhooks that want them), claims due deliveries (WebhooksRepository.claimDue: in order per stream, each by one
 * replica), POSTs each once, signed, and records the outcome; a failure is retried with backoff (a 4xx refusal of
 * the event fails that delivery for good instead: webhookFailureOutcome), and a webhook whose
 * deliveries have all failed for WEFT_WEBHOOK_DISABLE_AFTER_SEC is disabled (logged, counted, audited).
 *
 * On a timer of its own, apart from the scheduler tick (a slow receiver must not hold up scheduling): again at once
 * after a pass that attempted something, at once when the outbox says events were written (onWake: while a webhook
 * is enabled this process keeps committing writers NOTIFYing), else after WEFT_WEBHOOK_POLL_MS, the fallback.
 */
@Periodic()
@Injectable()
export class DeliverWebhooksJob implements PeriodicJob<number>, OnApplicationShutdown {
  readonly name = 'deliver-webhooks';
  private readonly logger = new Logger('webhooks');
  private closed = false;
  /** Whether the host wakes this job on the outbox's NOTIFYs (it runs the job here), and this process's registration. */
  private listening = false;
  private readonly listenerId = `webhooks:${randomUUID()}`;
  private notifiedUntil = 0;

  constructor(
    private readonly repo: WebhooksRepository,
    private readonly events: EventsOutbox,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly secrets: SecretsService,
    private readonly outbound: OutboundService,
    private readonly metrics: MetricsService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  get interval(): number {
    return this.config.webhooks.pollMs;
  }

  again(attempted: number): boolean {
    return attempted > 0;
  }

  onWake(wake: () => void): void {
    this.listening = true;
    this.events.onWaiting(wake).catch((err: unknown) => this.logger.warn(`cannot LISTEN for new events (${(err as Error).message}); polling meanwhile`));
  }

  /** Returns how many deliveries were attempted (0: nothing was due). */
  async run(now: Date): Promise<number> {
    if (this.closed) return 0;
    const enabled = await this.repo.anyEnabled();
    await this.keepWritersNotifying(enabled);
    if (!enabled) return 0;
    for (let round = 0; round < 10 && (await this.events.number(NUMBER_BATCH)) !== null; round++);
    const due = await this.repo.claimDue(now, CLAIM_LEASE_SEC, CLAIM_LIMIT);
    await Promise.all(due.map((d) => this.attempt(d, now)));
    return due.length;
  }

  onApplicationShutdown(): void {
    this.closed = true;
    if (this.notifiedUntil > 0) void this.events.stopWritersNotifying(this.listenerId).catch(() => undefined);
  }

  /**
   * While a webhook is enabled and this process is woken by NOTIFY, committing writers are asked to send one
   * (registered for NOTIFY_TTL_SEC, refreshed when a third of it is left); when none is, they are let off.
   */
  private async keepWritersNotifying(enabled: boolean): Promise<void> {
    if (!this.listening) return;
    const at = Date.now();
    if (enabled && at > this.notifiedUntil - (NOTIFY_TTL_SEC * 1000) / 3) {
      await this.events.keepWritersNotifying(this.listenerId, NOTIFY_TTL_SEC);
      this.notifiedUntil = at + NOTIFY_TTL_SEC * 1000;
    } else if (!enabled && this.notifiedUntil > 0) {
      this.notifiedUntil = 0;
      await this.events.stopWritersNotifying(this.listenerId);
    }
  }

  private async attempt(d: ClaimedDelivery, now: Date): Promise<void> {
    const result = await this.send(d);
    if (result.ok) {
      this.metrics.webhookDeliveries.inc({ outcome: 'delivered' });
      await this.repo.recordDelivered(d.id, d.webhookId, now);
      return;
    }
    const rejected = webhookFailureOutcome(result.status) === 'rejected';
    this.metrics.webhookDeliveries.inc({ outcome: rejected ? 'rejected' : 'failed' });
    const failingSince = rejected
      ? await this.repo.recordRejected(d.id, d.webhookId, result.error, now)
      : await this.repo.recordFailed(d.id, d.webhookId, result.error, nextWebhookAttemptAt(d.attempts, now), now);
    this.logger.warn(
      `webhook ${d.webhookId} delivery ${d.id} (${d.stream} #${d.seq}) attempt ${d.attempts} ${rejected ? 'rejected, not retried' : 'failed'}: ${result.error}`,
    );
    if (shouldDisable(failingSince, now, this.config.webhooks.disableAfterSec)) await this.disable(d.webhookId, failingSince!, result.error, now);
  }

  private async send(d: ClaimedDelivery): Promise<{ ok: true } | { ok: false; error: string; status?: number }> {
    const ready = resolveCallback({ type: 'webhook', url: d.url, secret: d.secret ?? undefined, secretRef: d.secretRef ?? undefined }, this.secrets);
    if (!ready.ok) return ready;
    const body = webhookBody(d);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'weft',
      'x-weft-event': d.kind,
      'x-weft-delivery': d.redeliveryOf ?? d.id,
      'x-weft-webhook': String(d.webhookId),
      'x-weft-stream': d.stream,
      'x-weft-sequence': String(d.seq),
      'x-weft-timestamp': timestamp,
    };
    const secret = ready.callback.type === 'webhook' ? ready.callback.secret : undefined;
    if (secret) headers['x-weft-signature'] = signWebhookPayload(secret, timestamp, body);
    const result = await postOnce({ url: d.url, body, headers, timeoutMs: DEFAULT_HTTP_TIMEOUT_MS, guard: this.outbound.callbacks });
    return result.ok ? { ok: true } : { ok: false, error: result.error, status: result.status };
  }

  private async disable(webhookId: number, failingSince: Date, lastError: string, now: Date): Promise<void> {
    const reason = `every delivery failed since ${failingSince.toISOString()} (last: ${lastError})`;
    const cutoff = new Date(now.getTime() - this.config.webhooks.disableAfterSec * 1000);
    const disabled = await this.transactions.run(async (db) => {
      if (!(await this.repo.disableFailing(db, webhookId, cutoff, reason, now))) return false;
      await this.audit.record({ action: 'disable_webhook', target: String(webhookId), actor: 'weft', details: { reason } }, db);
      return true;
    });
    if (!disabled) return;
    this.metrics.webhooksDisabled.inc();
    this.logger.error(`webhook ${webhookId} disabled: ${reason}; its deliveries wait until it is enabled again (PATCH /api/v1/webhooks/${webhookId} {"enabled": true})`);
  }
}
