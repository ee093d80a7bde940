import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { NotFoundError } from '../common/errors.js';
import { Clock } from '../common/clock.js';
import type { Page } from '../common/validation.js';
import { REDACTED_SECRET } from '../dags/domain/dag-document.schema.js';
import { Transactions } from '../database/transactions.js';
import { OutboundService } from '../outbound/outbound.service.js';
import { SecretsService } from '../secrets/secrets.service.js';
import { PG_POOL } from '../database/pg.js';
import pg from 'pg';
import type { CreateWebhookInput, UpdateWebhookInput } from './domain/webhook-inputs.js';
import { WebhooksRepository, type WebhookDeliveryView, type WebhookRow } from './webhooks.repository.js';

/** A webhook as the API shows it: the secret, when there is one, as "***". */
export type WebhookView = Omit<WebhookRow, 'secret'> & { secret: string | null };

/**
 * Outbound webhooks for state changes: registration (URL checked against the outbound-address policy, secret
 * stored encrypted), the delivery log and redelivery. Every change commits with its audit entry. Delivery is
 * DeliverWebhooksJob's.
 */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly repo: WebhooksRepository,
    private readonly audit: AuditService,
    private readonly transactions: Transactions,
    private readonly outbound: OutboundService,
    private readonly secrets: SecretsService,
    private readonly clock: Clock,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
  ) {}

  async list(limit: number, offset: number): Promise<Page<WebhookView>> {
    const { items, total } = await this.repo.list(limit, offset);
    return { items: items.map(view), totalEntries: total, limit, offset };
  }

  async get(id: number): Promise<WebhookView> {
    const row = await this.repo.get(this.pool, id);
    if (!row) throw new NotFoundError('webhook', String(id));
    return view(row);
  }

  async create(input: CreateWebhookInput): Promise<WebhookView> {
    await this.outbound.assertAllowed([{ path: 'url', url: input.url, guard: this.outbound.callbacks }]);
    const row = await this.transactions.run(async (db) => {
      const id = await this.repo.create(db, {
        url: input.url,
        eventKinds: input.eventKinds,
        dagIds: input.dagIds ?? [],
        secret: input.secret === undefined ? null : this.secrets.encrypt(input.secret),
        secretRef: input.secretRef ?? null,
        description: input.description ?? null,
      });
      await this.audit.record({ action: 'create_webhook', target: String(id), details: auditDetails(input) }, db);
      return this.repo.get(db, id);
    });
    return view(row!);
  }

  async update(id: number, patch: UpdateWebhookInput): Promise<WebhookView> {
    if (patch.url !== undefined) await this.outbound.assertAllowed([{ path: 'url', url: patch.url, guard: this.outbound.callbacks }]);
    const row = await this.transactions.run(async (db) => {
      const secret = typeof patch.secret === 'string' ? this.secrets.encrypt(patch.secret) : patch.secret;
      if (!(await this.repo.update(db, id, { ...patch, secret }, this.clock.now()))) throw new NotFoundError('webhook', String(id));
      await this.audit.record({ action: 'update_webhook', target: String(id), details: auditDetails(patch) }, db);
      return this.repo.get(db, id);
    });
    return view(row!);
  }

  async delete(id: number): Promise<void> {
    await this.transactions.run(async (db) => {
      if (!(await this.repo.delete(db, id))) throw new NotFoundError('webhook', String(id));
      await this.audit.record({ action: 'delete_webhook', target: String(id) }, db);
    });
  }

  async listDeliveries(id: number, f: { state?: string; stream?: string; limit: number; offset: number }): Promise<Page<WebhookDeliveryView>> {
    await this.get(id);
    const { items, total } = await this.repo.listDeliveries(id, f);
    return { items, totalEntries: total, limit: f.limit, offset: f.offset };
  }

  /** Sends a delivery's event again (same stream and sequence number), after what waits before it in its stream. */
  async redeliver(id: number, deliveryId: string): Promise<WebhookDeliveryView> {
    return this.transactions.run(async (db) => {
      const created = await this.repo.redeliver(db, id, deliveryId, this.clock.now());
      if (!created) throw new NotFoundError('webhook delivery', `${id}/${deliveryId}`);
      await this.audit.record({ action: 'redeliver_webhook_delivery', target: String(id), details: { deliveryId, redeliveryId: created } }, db);
      return (await this.repo.getDelivery(db, id, created))!;
    });
  }
}

function view(row: WebhookRow): WebhookView {
  return { ...row, secret: row.secret === null ? null : REDACTED_SECRET };
}

/** What the audit entry keeps of a change: everything but the secret itself. */
function auditDetails(input: CreateWebhookInput | UpdateWebhookInput): Record<string, unknown> {
  const { secret, ...rest } = input;
  return secret === undefined ? rest : { ...rest, secret: secret === null ? null : REDACTED_SECRET };
}
