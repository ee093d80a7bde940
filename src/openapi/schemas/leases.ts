import { z } from 'zod';
import { xcomValueInput } from '../../engine/leases/domain/xcom-inputs.js';
import { anyJson, jsonObject, named, page, timestamp } from '../contract.js';

export const lease = named('Lease', z.object({
  leaseId: z.uuid(),
  dagId: z.string(),
  runId: z.string(),
  taskId: z.string(),
  taskType: z.string(),
  mapIndex: z.int().describe("Position among a mapped task's instances (0…n−1); −1 for an unmapped task"),
  expand: jsonObject.optional().describe("A mapped instance's values of its task's `expand` keys; absent when unmapped"),
  queue: z.string(),
  tryNumber: z.int().describe('1 for the first attempt; with dag/run/task, the idempotency key of the attempt'),
  maxTries: z.int(),
  leaseExpiresAt: timestamp.describe('The lease is reaped (a failed attempt) unless heartbeats extend it'),
  heartbeatIntervalSec: z.int().describe('Heartbeat at least this often'),
  executionDeadline: timestamp.nullable().describe('Hard execution timeout of the attempt; null = none'),
  logicalDate: timestamp,
  dataIntervalStart: timestamp,
  dataIntervalEnd: timestamp,
  params: jsonObject,
  conf: jsonObject,
  upstreamXcom: z.record(z.string(), jsonObject).describe('XCom of the tasks in `xcomPull`: task id → key → value'),
  task: jsonObject.describe('The task\'s work fields with every template rendered (command, request, sql, args, …)'),
}), {
  example: {
    leaseId: '0b6c8a9e-3f1d-4d2a-9a57-6f1f3c2b8e41', dagId: 'daily_sales', runId: 'scheduled__2024-01-15T00:00:00.000Z', taskId: 'load', taskType: 'load_rows', mapIndex: -1, queue: 'default',
    tryNumber: 1, maxTries: 3, leaseExpiresAt: '2024-01-16T02:01:00.000Z', heartbeatIntervalSec: 15, executionDeadline: null,
    logicalDate: '2024-01-15T00:00:00.000Z', dataIntervalStart: '2024-01-15T00:00:00.000Z', dataIntervalEnd: '2024-01-16T00:00:00.000Z',
    params: {}, conf: {}, upstreamXcom: { extract: { return_value: { rows: 42 } } }, task: { taskId: 'load', type: 'load_rows', args: { rows: '42' } },
  },
});

export const leaseBatch = named('LeaseBatch', z.object({ leases: z.array(lease).describe('Empty when the wait ended with nothing eligible') }));

export const heartbeatResult = named('HeartbeatResult', z.object({
  leaseExpiresAt: timestamp,
  cancelRequested: z.boolean().describe('Stop the task and complete it (failed) as soon as possible'),
}), { example: { leaseExpiresAt: '2024-01-16T02:01:15.000Z', cancelRequested: false } });

export const completeResult = named('CompleteResult', z.object({
  taskState: z.string(),
  runState: z.string(),
  duplicate: z.boolean().describe('The same completion was already accepted; nothing changed'),
  leases: z.array(lease).optional().describe('With `next`: the worker\'s next leases'),
}), { example: { taskState: 'success', runState: 'running', duplicate: false, leases: [] } });

export const renderedTask = named('RenderedTask', z.object({
  dagId: z.string(),
  runId: z.string(),
  taskId: z.string(),
  mapIndex: z.int().describe('-1 unless the task instance is one of a mapped task\'s'),
  expand: jsonObject.optional().describe('A mapped instance\'s values of its task\'s `expand` keys'),
  taskType: z.string(),
  tryNumber: z.int().describe('The task instance\'s current try (0 before its first attempt)'),
  task: jsonObject.nullable().describe('The task\'s work fields with every template rendered, as a lease carries them; null when rendering failed'),
  error: z.string().nullable().describe('Why rendering failed (a template error), or null'),
  upstreamXcom: z.record(z.string(), jsonObject).describe('XCom of the tasks in `xcomPull` as it stands now: task id → key → value'),
  params: jsonObject,
  conf: jsonObject,
}), {
  example: {
    dagId: 'daily_sales', runId: 'scheduled__2024-01-15T00:00:00.000Z', taskId: 'load', mapIndex: -1, taskType: 'shell', tryNumber: 1,
    task: { command: "load --day '2024-01-15'" }, error: null, upstreamXcom: {}, params: {}, conf: {},
  },
});

export const workerLease = named('WorkerLease', z.object({
  dagId: z.string(),
  runId: z.string(),
  taskId: z.string(),
  mapIndex: z.int().describe('-1 unless it is an instance of a mapped task'),
  tryNumber: z.int(),
  queue: z.string(),
  acquiredAt: timestamp.describe('When the worker took the lease'),
  heartbeatAt: timestamp.describe('Its last heartbeat'),
  expiresAt: timestamp.describe('Reaped (a failed attempt) at this time unless a heartbeat extends it'),
  deadlineAt: timestamp.nullable().describe('Hard execution timeout of the attempt; null = none'),
  cancelRequested: z.boolean().describe('A clear, mark or timeout asked the worker to stop the task'),
}));

export const worker = named('Worker', z.object({
  workerId: z.string(),
  hostname: z.string().nullable(),
  queues: z.array(z.string()),
  taskTypes: z.array(z.string()),
  capacity: z.int(),
  firstSeen: timestamp,
  lastSeen: timestamp,
  runningLeases: z.int(),
  leases: z.array(workerLease).describe('The task instances it holds now, oldest lease first'),
}));

export const workerPage = page('WorkerPage', worker);

export const logLine = named('LogLine', z.object({ tryNumber: z.int(), line: z.string(), stream: z.string(), at: timestamp }));

export const logLinePage = page('LogLinePage', logLine);

export const xcomEntry = named('XcomEntry', z.object({ key: z.string(), value: anyJson, tryNumber: z.int(), createdAt: timestamp }));

export const xcomEntryList = named('XcomEntryList', z.object({ items: z.array(xcomEntry), totalEntries: z.int() }));

/** The body of setXcomEntry and setMappedXcomEntry: one name, so clients have one model for both. */
export const setXcomEntryRequest = named('SetXcomEntryRequest', xcomValueInput);
