import type { RunState } from '../../engine/runs/domain/run-state.js';

export type ReprocessBehavior = 'none' | 'failed' | 'completed';
export type ExistingRun = { runId: string; state: RunState };
export type PlannedDate = {
  logicalDate: Date;
  action: 'create' | 'reprocess' | 'skip';
  existingRunId?: string;
  skipReason?: string;
};

/**
 * What a backfill does for each logical date (Airflow 3's reprocess_behavior): a date without a run gets one;
 * a date with a finished run is re-run when the behavior asks (`failed`: failed runs; `completed`: failed and
 * successful ones) and skipped otherwise; a date whose run is still queued or running is left alone.
 * Oldest first, or newest first with runBackwards.
 */
export function planBackfill(
  logicalDates: Date[],
  existing: ReadonlyMap<number, ExistingRun>,
  behavior: ReprocessBehavior,
  runBackwards: boolean,
): PlannedDate[] {
  const planned = logicalDates.map((logicalDate): PlannedDate => {
    const run = existing.get(logicalDate.getTime());
    if (!run) return { logicalDate, action: 'create' };
    const base = { logicalDate, existingRunId: run.runId };
    switch (run.state) {
      case 'queued':
      case 'running':
        return { ...base, action: 'skip', skipReason: `run ${run.runId} is ${run.state}` };
      case 'failed':
        return behavior === 'none'
          ? { ...base, action: 'skip', skipReason: `run ${run.runId} exists (failed); reprocessBehavior is none` }
          : { ...base, action: 'reprocess' };
      case 'success':
        return behavior === 'completed'
          ? { ...base, action: 'reprocess' }
          : { ...base, action: 'skip', skipReason: `run ${run.runId} exists (success)` };
    }
  });
  return runBackwards ? planned.reverse() : planned;
}
