import { z } from 'zod';
import { WEBHOOK_DELIVERY_STATES, WEBHOOK_EVENT_KINDS } from '../../webhooks/domain/webhook-inputs.js';
import { named, page, timestamp } from '../contract.js';

/** Outbound webhooks for state changes and their delivery log. */

export const webhook = named(
  'Webhook',
  z.object({
    id: z.int(),
    url: z.string(),
    eventKinds: z.array(z.enum(WEBHOOK_EVENT_KINDS)),
    dagIds: z.array(z.string()).describe('Only events of these DAGs; empty: every DAG'),
    secret: z.string().nullable().describe('"***" when deliveries are signed with a stored secret'),
    secretRef: z.string().nullable().describe('Deliveries are signed with the environment variable WEFT_SECRET_<secretRef>'),
    description: z.string().nullable(),
    enabled: z.boolean(),
    failingSince: timestamp.nullable().describe('Every attempt since then has failed'),
    disabledAt: timestamp.nullable(),
    disabledReason: z.string().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
    pendingDeliveries: z.int(),
    lastDeliveredAt: timestamp.nullable(),
  }),
  {
    example: {
      id: 1,
      url: 'https://ops.example.com/weft-events',
      eventKinds: ['task_instance_state', 'dag_run_state'],
      dagIds: [],
      secret: '***',
      secretRef: null,
      description: 'state changes to the ops dashboard',
      enabled: true,
      failingSince: null,
      disabledAt: null,
      disabledReason: null,
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
      pendingDeliveries: 0,
      lastDeliveredAt: '2024-01-02T00:00:03.120Z',
    },
  },
);

export const webhookPage = page('WebhookPage', webhook);

export const webhookDelivery = named(
  'WebhookDelivery',
  z.object({
    id: z.string().describe('Delivery id (digits)'),
    webhookId: z.int(),
    stream: z.string().describe('The event stream (ti:<run row id>, run:<dag id>, backfill:<id>, sla:<dag id>)'),
    sequence: z.number().describe('The event’s sequence number in its stream'),
    kind: z.string(),
    dagId: z.string(),
    runId: z.string().nullable(),
    redeliveryOf: z.string().nullable().describe('The first delivery of this event, when this is a redelivery'),
    state: z.enum(WEBHOOK_DELIVERY_STATES),
    attempts: z.int(),
    nextAttemptAt: timestamp,
    lastError: z.string().nullable(),
    deliveredAt: timestamp.nullable(),
    createdAt: timestamp,
  }),
);

export const webhookDeliveryPage = page('WebhookDeliveryPage', webhookDelivery);
