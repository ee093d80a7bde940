import { InvalidTransitionError } from './invalid-transition-error.js';

/** Same values, same order, as the Prisma enum `RunState` (prisma/schema.prisma); a spec keeps them equal. */
export const RUN_STATES = ['queued', 'running', 'success', 'failed'] as const;

export type RunState = (typeof RUN_STATES)[number];

export const FINISHED_RUN_STATES: ReadonlySet<RunState> = new Set<RunState>(['success', 'failed']);

export function isRunState(value: unknown): value is RunState {
  return typeof value === 'string' && (RUN_STATES as readonly string[]).includes(value);
}

/**
 * The only authority on dag-run state changes. Self-pairs are not transitions (see TASK_TRANSITIONS).
 * - queued → running: admitted under maxActiveRuns. running → success | failed: derived from its task instances.
 * - queued → success | failed, success ⇄ failed: an operator marks the run.
 * - success | failed → queued | running: tasks were cleared; queued waits for maxActiveRuns again.
 * A running run whose tasks are cleared stays running (it already holds its maxActiveRuns slot), so there is no
 * running → queued.
 */
export const RUN_TRANSITIONS: Readonly<Record<RunState, readonly RunState[]>> = {
  queued: ['running', 'success', 'failed'],
  running: ['success', 'failed'],
  success: ['queued', 'running', 'failed'],
  failed: ['queued', 'running', 'success'],
};

export function canTransitionRun(from: RunState, to: RunState): boolean {
  return RUN_TRANSITIONS[from].includes(to);
}

/** @throws InvalidTransitionError when the table does not allow `from → to` (including `from === to`). */
export function assertRunTransition(from: RunState, to: RunState): void {
  if (!canTransitionRun(from, to)) throw new InvalidTransitionError('run', from, to);
}
