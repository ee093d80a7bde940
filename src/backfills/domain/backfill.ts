import type { RunState } from '../../engine/runs/domain/run-state.js';
import type { BackfillClipping } from './clip-to-ended.js';
import type { ReprocessBehavior } from './plan-backfill.js';

export type BackfillRow = {
  id: number;
  dagId: string;
  fromDate: Date;
  toDate: Date;
  maxActiveRuns: number;
  reprocessBehavior: ReprocessBehavior;
  runBackwards: boolean;
  conf: Record<string, unknown>;
  isPaused: boolean;
  createdAt: Date;
  completedAt: Date | null;
  canceledAt: Date | null;
  /** The part of the requested range left out because it had not ended at the request; null when none was. */
  clipped: BackfillClipping | null;
};

export type BackfillItem = {
  sortOrdinal: number;
  logicalDate: Date;
  status: 'pending' | 'started' | 'skipped';
  reprocess: boolean;
  dagRunId: number | null;
  runId: string | null;
  runState: RunState | null;
  skipReason: string | null;
};

/** Dates of a backfill per item status (pending, skipped) and, once started, per run state. */
export type BackfillCounts = { pending: number; skipped: number; queued: number; running: number; success: number; failed: number };
