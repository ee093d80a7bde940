import type { RunState } from './run-state.js';
import type { TaskState } from './task-state.js';

export type RunRow = {
  id: number;
  dagId: string;
  runId: string;
  dagVersionId: number;
  runType: 'scheduled' | 'manual' | 'backfill' | 'dataset_triggered';
  state: RunState;
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  runAfter: Date;
  conf: Record<string, unknown>;
  backfillId: number | null;
  clearNumber: number;
  queuedAt: Date;
  startDate: Date | null;
  endDate: Date | null;
};

export type TaskInstanceRow = {
  id: number;
  dagRunId: number;
  dagId: string;
  runId: string;
  taskId: string;
  /** Position among a mapped task's instances; −1 when unmapped (Airflow's map_index). */
  mapIndex: number;
  state: TaskState;
  tryNumber: number;
  maxTries: number;
  taskType: string;
  queue: string;
  pool: string;
  poolSlots: number;
  priorityWeight: number;
  logicalDate: Date;
  scheduledAt: Date | null;
  queuedAt: Date | null;
  startDate: Date | null;
  endDate: Date | null;
  nextRetryAt: Date | null;
  lastError: string | null;
};

export type TryRow = {
  tryNumber: number;
  state: TaskState;
  workerId: string | null;
  hostname: string | null;
  startDate: Date | null;
  endDate: Date | null;
  error: string | null;
};
