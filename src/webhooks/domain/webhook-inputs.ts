import { z } from 'zod';
import { INT32_MAX, paginationSchema, wholeNumber } from '../../common/validation.js';
import { httpUrl, idSchema, webhookSecret } from '../../dags/domain/dag-document.schema.js';
import { SECRET_REF_PATTERN } from '../../secrets/domain/secret-ref.js';

/** Inputs of the webhook API, shared by REST and GraphQL. */

/** What a webhook can subscribe to: the kinds of the events outbox (src/events/domain/streams.ts). */
export const WEBHOOK_EVENT_KINDS = ['task_instance_state', 'dag_run_state', 'backfill_progress', 'sla_miss', 'sla_warning'] as const;
export type WebhookEventKind = (typeof WEBHOOK_EVENT_KINDS)[number];

/** A delivery is pending until the receiver accepts it (failures are retried until the webhook is disabled). */
export const WEBHOOK_DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;

const secretRef = z.string().regex(SECRET_REF_PATTERN, { error: 'must be 1-200 characters of A-Z, 0-9 and "_"' });
const eventKinds = z.array(z.enum(WEBHOOK_EVENT_KINDS)).min(1).max(WEBHOOK_EVENT_KINDS.length)
  .refine((k) => new Set(k).size === k.length, { error: 'each kind once' });
const dagIds = z.array(idSchema).max(100).describe('Only events of these DAGs; empty or absent: every DAG');
const description = z.string().max(1000);

export const createWebhookInput = z
  .strictObject({
    url: httpUrl.pipe(z.string().max(2000)),
    eventKinds,
    dagIds: dagIds.optional(),
    secret: webhookSecret.pipe(z.string().max(1000)).optional(),
    secretRef: secretRef.optional(),
    description: description.optional(),
  })
  .refine((w) => w.secret === undefined || w.secretRef === undefined, { error: 'give either secret or secretRef, not both', path: ['secretRef'] });
export type CreateWebhookInput = z.infer<typeof createWebhookInput>;

/** Every field optional; `secret`/`secretRef` null removes the signature; `enabled: true` re-enables a disabled webhook. */
export const updateWebhookInput = z
  .strictObject({
    url: httpUrl.pipe(z.string().max(2000)).optional(),
    eventKinds: eventKinds.optional(),
    dagIds: dagIds.optional(),
    secret: webhookSecret.pipe(z.string().max(1000)).nullable().optional(),
    secretRef: secretRef.nullable().optional(),
    description: description.nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .refine((w) => Object.values(w).some((v) => v !== undefined), { error: 'give at least one field to change' })
  .refine((w) => !(typeof w.secret === 'string' && typeof w.secretRef === 'string'), { error: 'give either secret or secretRef, not both', path: ['secretRef'] });
export type UpdateWebhookInput = z.infer<typeof updateWebhookInput>;

export const webhookId = wholeNumber(1, INT32_MAX);
/** Delivery ids are bigints, passed as digits. */
export const webhookDeliveryId = z.string().regex(/^[1-9][0-9]{0,17}$/, { error: 'must be a delivery id (digits)' });

export const webhookDeliveriesFilter = paginationSchema.extend({
  state: z.enum(WEBHOOK_DELIVERY_STATES).optional(),
  stream: z.string().min(1).max(300).optional(),
});
