/** What an external_task sensor found for the other DAG in its window. */
export type ExternalObservation = {
  /** States of the matched runs (or of the task in them), one per run in the window. */
  states: string[];
  /** Runs the other DAG's schedule has in the window (null when it has none: manual DAGs need one run). */
  expectedRuns: number | null;
};

export type SensorConfig = {
  allowedStates: string[];
  failedStates: string[];
  timeoutSec?: number;
};

export type SensorVerdict = { state: 'success' | 'failed' | 'waiting'; reason?: string };

/**
 * An external_task sensor succeeds when every run of the other DAG in the window (all of them: a daily DAG
 * waiting on an hourly one waits for its 24 runs) has reached an allowed state; it fails as soon as one is in a
 * failed state, or when its timeout passes; otherwise it keeps waiting.
 */
export function evaluateExternalTask(cfg: SensorConfig, seen: ExternalObservation, time: { scheduledAt: Date; now: Date }): SensorVerdict {
  const failed = seen.states.find((s) => cfg.failedStates.includes(s));
  if (failed) return { state: 'failed', reason: `the external ${seenWhat(seen)} is ${failed}` };
  const needed = Math.max(seen.expectedRuns ?? 1, 1);
  const allowed = seen.states.filter((s) => cfg.allowedStates.includes(s)).length;
  if (allowed >= needed && allowed === seen.states.length) return { state: 'success' };
  if (cfg.timeoutSec !== undefined && time.now.getTime() - time.scheduledAt.getTime() >= cfg.timeoutSec * 1000) {
    return { state: 'failed', reason: `sensor timed out after ${cfg.timeoutSec}s (${allowed} of ${needed} external runs done)` };
  }
  return { state: 'waiting' };
}

function seenWhat(seen: ExternalObservation): string {
  return seen.states.length === 1 ? 'run' : 'runs';
}
