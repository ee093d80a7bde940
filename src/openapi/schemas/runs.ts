import { z } from 'zod';
import { markTaskInput, RUN_TYPES } from '../../engine/runs/domain/run-inputs.js';
import { RUN_STATES } from '../../engine/runs/domain/run-state.js';
import { TASK_STATES } from '../../engine/runs/domain/task-state.js';
import { jsonObject, named, page, timestamp } from '../contract.js';

export const runState = named('DagRunState', z.enum(RUN_STATES));
export const taskState = named('TaskInstanceState', z.enum(TASK_STATES));

export const dagRun = named('DagRun', z.object({
  dagId: z.string(),
  runId: z.string(),
  runType: z.enum(RUN_TYPES),
  state: runState,
  logicalDate: timestamp,
  dataIntervalStart: timestamp,
  dataIntervalEnd: timestamp,
  runAfter: timestamp,
  conf: jsonObject,
  backfillId: z.int().nullable(),
  clearNumber: z.int().describe('How many times the run was cleared'),
  queuedAt: timestamp,
  startDate: timestamp.nullable(),
  endDate: timestamp.nullable(),
}), { example: { dagId: 'daily_sales', runId: 'manual__2024-01-15T00:00:00.000Z', runType: 'manual', state: 'running', logicalDate: '2024-01-15T00:00:00.000Z', dataIntervalStart: '2024-01-15T00:00:00.000Z', dataIntervalEnd: '2024-01-15T00:00:00.000Z', runAfter: '2024-01-15T00:00:00.000Z', conf: {}, backfillId: null, clearNumber: 0, queuedAt: '2024-01-15T00:00:00.120Z', startDate: '2024-01-15T00:00:00.130Z', endDate: null } });

export const dagRunPage = page('DagRunPage', dagRun);

export const taskTry = named('TaskInstanceTry', z.object({
  tryNumber: z.int(),
  state: taskState,
  workerId: z.string().nullable(),
  hostname: z.string().nullable(),
  startDate: timestamp.nullable(),
  endDate: timestamp.nullable(),
  error: z.string().nullable(),
}));

export const taskInstance = named('TaskInstance', z.object({
  dagId: z.string(),
  runId: z.string(),
  taskId: z.string(),
  mapIndex: z.int().describe("Position among a mapped task's instances (0…n−1); −1 for an unmapped task"),
  state: taskState,
  tryNumber: z.int(),
  maxTries: z.int(),
  taskType: z.string(),
  queue: z.string(),
  pool: z.string(),
  poolSlots: z.int(),
  priorityWeight: z.int(),
  logicalDate: timestamp,
  scheduledAt: timestamp.nullable(),
  queuedAt: timestamp.nullable(),
  startDate: timestamp.nullable(),
  endDate: timestamp.nullable(),
  nextRetryAt: timestamp.nullable(),
  lastError: z.string().nullable(),
  durationSec: z.number().nullable(),
  stateReason: z
    .string()
    .nullable()
    .describe("Why a queued task instance does not start, when it is not just waiting for a slot: its pool does not exist, no worker has polled its queue for over a minute, or the workers that poll it take only other task types; null otherwise"),
  tries: z.array(taskTry),
}));

export const taskInstanceList = named('TaskInstanceList', z.object({ items: z.array(taskInstance), totalEntries: z.int() }));

export const affectedTask = named(
  'AffectedTaskInstance',
  z
    .object({
      runId: z.string(),
      taskId: z.string(),
      mapIndex: z.int().describe('−1 for an unmapped task'),
      state: taskState,
      previousState: taskState,
      tryNumber: z.int(),
    })
    .describe(
      'A task instance a clear or mark touched (or would touch, in a dry run) as it is after the action: `state` and `tryNumber` are ' +
        'those after it (in a dry run, the current ones), `previousState` the state it had before',
    ),
);

export const clearResult = named('ClearTaskInstancesResult', z.object({
  dryRun: z.boolean(),
  taskInstances: z.array(affectedTask).describe('What was (or, with dryRun, would be) cleared'),
}));

export const markTaskResult = named('MarkTaskInstanceResult', z.object({
  dryRun: z.boolean(),
  taskInstances: z.array(affectedTask),
  runState,
}));

/** The body of patchTaskInstance and patchMappedTaskInstance: one name, so clients have one model for both. */
export const patchTaskInstanceRequest = named('PatchTaskInstanceRequest', markTaskInput);
