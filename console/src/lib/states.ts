/**
 * How a state looks: a colour (CSS class) and, so that colour is never the only signal, a glyph with its own
 * shape and a text label. One table for task and run states.
 */
export const TASK_STATES = ['none', 'scheduled', 'queued', 'running', 'success', 'failed', 'up_for_retry', 'upstream_failed', 'skipped', 'removed'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export type RunState = 'queued' | 'running' | 'success' | 'failed';

const LOOK: Record<TaskState, { glyph: string; label: string }> = {
  none: { glyph: '·', label: 'no status' },
  scheduled: { glyph: '○', label: 'scheduled' },
  queued: { glyph: '◔', label: 'queued' },
  running: { glyph: '▶', label: 'running' },
  success: { glyph: '✓', label: 'success' },
  failed: { glyph: '✕', label: 'failed' },
  up_for_retry: { glyph: '↻', label: 'up for retry' },
  upstream_failed: { glyph: '⊘', label: 'upstream failed' },
  skipped: { glyph: '»', label: 'skipped' },
  removed: { glyph: '−', label: 'removed' },
};

export function stateGlyph(state: string): string {
  return LOOK[state as TaskState]?.glyph ?? '?';
}

export function stateLabel(state: string): string {
  return LOOK[state as TaskState]?.label ?? state;
}

export const isFinished = (state: string): boolean => ['success', 'failed', 'upstream_failed', 'skipped', 'removed'].includes(state);
