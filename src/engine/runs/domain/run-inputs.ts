import { z } from 'zod';
import { INT32_MAX, isoDateTime, paginationSchema } from '../../../common/validation.js';
import { idError, RUN_ID_MESSAGE, RUN_ID_PATTERN } from '../../../common/ids.js';
import { RUN_STATES } from './run-state.js';
import { TASK_STATES } from './task-state.js';

/** Inputs of the run API, shared by REST and GraphQL so that both name bad fields the same way. */

export const RUN_TYPES = ['scheduled', 'manual', 'backfill', 'dataset_triggered'] as const;

/** A run id (common/ids.ts): the id characters and ':' and '+', never only dots. */
export const runIdSchema = z.string().regex(RUN_ID_PATTERN, { error: idError(RUN_ID_MESSAGE) });

export const triggerRunInput = z.strictObject({
  logicalDate: isoDateTime.optional(),
  conf: z.record(z.string(), z.json()).optional(),
  runId: runIdSchema.optional(),
});

/** The run list's filters; REST's query string spells `state` as a comma-separated list. */
export const runListFilter = paginationSchema.extend({
  state: z.array(z.enum(RUN_STATES)).optional(),
  logicalDateGte: isoDateTime.optional(),
  logicalDateLte: isoDateTime.optional(),
  runType: z.enum(RUN_TYPES).optional(),
});

export const markRunInput = z.strictObject({ state: z.enum(['success', 'failed']) });

export const markTaskInput = z.strictObject({
  newState: z.enum(['success', 'failed']),
  includeUpstream: z.boolean().default(false),
  includeDownstream: z.boolean().default(false),
  dryRun: z.boolean().default(false),
});

export const clearTasksInput = z
  .strictObject({
    taskIds: z.array(z.string().min(1)).min(1).optional(),
    mapIndexes: z.array(z.int().min(-1).max(INT32_MAX)).min(1).optional(),
    includeDownstream: z.boolean().default(false),
    includeUpstream: z.boolean().default(false),
    states: z.array(z.enum(TASK_STATES)).min(1).optional(),
    onlyFailed: z.boolean().default(false),
    runIds: z.array(z.string().min(1)).min(1).optional(),
    startDate: isoDateTime.optional(),
    endDate: isoDateTime.optional(),
    dryRun: z.boolean().default(true),
  })
  .transform(({ onlyFailed, startDate, endDate, states, ...rest }) => ({
    ...rest,
    states: onlyFailed ? (['failed', 'upstream_failed'] as const).slice() : states,
    logicalDateGte: startDate,
    logicalDateLte: endDate,
  }));
