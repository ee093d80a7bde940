import { z } from 'zod';
import { RUN_STATES } from '../../engine/runs/domain/run-state.js';
import { API_KEY_ROLES } from '../../auth/domain/api-key-inputs.js';
import { anyJson, jsonObject, named, page, timestamp } from '../contract.js';

/** Pools, backfills, datasets, alerts, API keys, audit log and health. */

export const pool = named('Pool', z.object({
  name: z.string(),
  slots: z.int(),
  description: z.string().nullable(),
  runningSlots: z.int(),
  queuedSlots: z.int(),
  openSlots: z.int(),
}), { example: { name: 'default_pool', slots: 128, description: null, runningSlots: 3, queuedSlots: 0, openSlots: 125 } });

export const poolPage = page('PoolPage', pool);

const backfillClipping = named('BackfillClipping', z.object({
  intervals: z.int().describe('How many intervals of the range were left out because they had not ended'),
  cutoff: timestamp.describe('The time of the request: the backfill covers the intervals that ended at or before it'),
  firstLogicalDate: timestamp.describe('Logical date of the first interval left out'),
  lastLogicalDate: timestamp.describe('Logical date of the last interval left out'),
}).describe('The part of [fromDate, toDate] a backfill leaves out: intervals that had not ended when it was requested'));

const backfillFields = {
  id: z.int(),
  dagId: z.string(),
  fromDate: timestamp,
  toDate: timestamp,
  maxActiveRuns: z.int(),
  reprocessBehavior: z.enum(['none', 'failed', 'completed']),
  runBackwards: z.boolean(),
  conf: jsonObject,
  isPaused: z.boolean(),
  createdAt: timestamp,
  completedAt: timestamp.nullable(),
  canceledAt: timestamp.nullable(),
  state: z.enum(['running', 'paused', 'completed', 'canceled']),
  clipped: backfillClipping.nullable(),
};

export const backfillSummary = named('BackfillSummary', z.object(backfillFields));

export const backfillPage = page('BackfillPage', backfillSummary);

export const backfillItem = named('BackfillItem', z.object({
  sortOrdinal: z.int(),
  logicalDate: timestamp,
  status: z.enum(['pending', 'started', 'skipped']),
  reprocess: z.boolean(),
  dagRunId: z.int().nullable(),
  runId: z.string().nullable(),
  runState: z.enum(RUN_STATES).nullable(),
  skipReason: z.string().nullable(),
}));

export const backfill = named('Backfill', z.object({
  ...backfillFields,
  counts: z.record(z.string(), z.int()).describe('Dates per status and run state'),
  items: z.array(backfillItem),
}));

export const backfillDryRun = named('BackfillDryRun', z.object({
  dryRun: z.literal(true),
  dagId: z.string(),
  create: z.array(timestamp),
  reprocess: z.array(z.object({ logicalDate: timestamp, runId: z.string() })),
  skip: z.array(z.object({ logicalDate: timestamp, reason: z.string() })),
  clipped: backfillClipping.nullable(),
}));

export const dataset = named('Dataset', z.object({
  uri: z.string(),
  extra: jsonObject,
  createdAt: timestamp,
  producers: z.array(z.object({ dagId: z.string(), taskId: z.string() })),
  consumers: z.array(z.string()).describe('DAGs scheduled on this dataset'),
  lastEventAt: timestamp.nullable(),
}));

export const datasetPage = page('DatasetPage', dataset);

export const datasetEvent = named('DatasetEvent', z.object({
  id: z.int(),
  uri: z.string(),
  sourceDagId: z.string().nullable(),
  sourceRunId: z.string().nullable(),
  sourceTaskId: z.string().nullable(),
  sourceTryNumber: z.int().nullable(),
  extra: jsonObject,
  timestamp,
}));

export const datasetEventPage = page('DatasetEventPage', datasetEvent);

export const slaMiss = named('SlaMiss', z.object({
  id: z.int(),
  dagId: z.string(),
  runId: z.string(),
  taskId: z.string(),
  logicalDate: timestamp,
  deadline: timestamp,
  detectedAt: timestamp,
  deliveries: z.array(z.object({ channel: z.string(), state: z.string(), attempts: z.int(), lastError: z.string().nullable(), deliveredAt: timestamp.nullable() })),
}));

export const slaMissPage = page('SlaMissPage', slaMiss);

export const slaWarning = named('SlaWarning', z.object({
  id: z.int(),
  dagId: z.string(),
  runId: z.string(),
  taskId: z.string(),
  tryNumber: z.int(),
  logicalDate: timestamp,
  startedAt: timestamp.describe('When the attempt started'),
  elapsedSec: z.number().describe('How long it had run when the warning was raised'),
  p95Sec: z.number().describe('The p95 duration of the task’s last successful attempts'),
  p95Fraction: z.number(),
  samples: z.int().describe('How many successful attempts the p95 was taken over'),
  detectedAt: timestamp,
  deliveries: z.array(z.object({ channel: z.string(), state: z.string(), attempts: z.int(), lastError: z.string().nullable(), deliveredAt: timestamp.nullable() })),
}));

export const slaWarningPage = page('SlaWarningPage', slaWarning);

export const alertDelivery = named('AlertDelivery', z.object({
  id: z.int(),
  kind: z.enum(['sla_miss', 'sla_warning', 'task_failed', 'run_failed']),
  dagId: z.string(),
  callbackList: z.string(),
  callbackIndex: z.int(),
  channel: z.string(),
  message: anyJson,
  state: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.int(),
  nextAttemptAt: timestamp.nullable(),
  lastError: z.string().nullable(),
  deliveredAt: timestamp.nullable(),
  createdAt: timestamp,
}));

export const alertDeliveryPage = page('AlertDeliveryPage', alertDelivery);

export const apiKeyRole = named('ApiKeyRole', z.enum(API_KEY_ROLES));

const apiKeyFields = {
  id: z.uuid(),
  name: z.string(),
  prefix: z.string().describe('The first characters of the key, to recognise it'),
  role: apiKeyRole,
  queues: z.array(z.string()),
  taskTypes: z.array(z.string()),
  createdAt: timestamp,
  lastUsedAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
};

export const apiKey = named('ApiKey', z.object(apiKeyFields));

export const apiKeyPage = page('ApiKeyPage', apiKey);

export const createdApiKey = named('CreatedApiKey', z.object({ ...apiKeyFields, key: z.string().describe('The key itself: shown in this answer only') }));

export const auditEntry = named('AuditEntry', z.object({
  id: z.string(),
  at: timestamp,
  actor: z.string().nullable(),
  action: z.string(),
  target: z.string().nullable(),
  details: jsonObject,
}));

export const auditPage = page('AuditEntryPage', auditEntry);

export const health = named('Health', z.object({ status: z.literal('ok') }));

export const readiness = named('Readiness', z.object({
  status: z.enum(['ok', 'unavailable']),
  database: z.enum(['ok', 'unreachable', 'read_only']),
  pendingMigrations: z.array(z.string()),
  error: z.string().optional(),
}));

export const principal = named('Principal', z.object({
  authEnabled: z.boolean().describe('false when the service runs with WEFT_AUTH=off (then role is admin)'),
  role: z.enum(API_KEY_ROLES),
  keyId: z.string().nullable(),
  name: z.string().nullable(),
  prefix: z.string().nullable(),
}), { example: { authEnabled: true, role: 'viewer', keyId: '3f1c9a2e-4d7b-4f0e-9a51-2c8e6b1d7f40', name: 'on-call dashboard', prefix: 'weft_AbCdEfG' } });
