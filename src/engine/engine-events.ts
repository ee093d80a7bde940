import { Injectable } from '@nestjs/common';
import { AfterCommitEvent, InTransactionEvent } from '../database/transaction-events.js';
import type { DagDocument } from '../dags/domain/dag-document.schema.js';

/**
 * A task instance failed for good (no retry left, or not retryable), or the engine failed it without an attempt (a
 * mapped task that cannot expand, a built-in branch that cannot choose: `tryNumber` 0 when it never ran).
 */
export type TaskFailed = {
  doc: DagDocument;
  taskInstanceId: number;
  dagId: string;
  runId: string;
  taskId: string;
  /** −1 unless the failed instance is one mapped instance. */
  mapIndex: number;
  logicalDate: Date;
  dagVersionId: number;
  tryNumber: number;
  maxTries: number;
  error: string | null;
  at: Date;
};

/** A run failed. */
export type RunFailed = {
  doc: DagDocument;
  dagRunId: number;
  clearNumber: number;
  dagId: string;
  runId: string;
  logicalDate: Date;
  dagVersionId: number;
  failedTasks: string[];
  at: Date;
};

/** A task that declares dataset outlets succeeded: each of those datasets was updated. */
export type OutletsUpdated = { uris: string[]; dagId: string; runId: string; taskId: string; tryNumber: number; at: Date };

/** The DAG's queued runs (and its backfills' next dates) may start: one of its runs ended or went back to queued. */
export type RunsMayStart = { dagId: string; now: Date };

/**
 * What the kernel tells the rest of Weft. Features subscribe to these (alerts, datasets, backfills) instead of the
 * kernel calling them: the in-transaction events are written in the transaction of the change that raised them;
 * the after-commit ones reach their listeners once it committed. (State changes for subscribers travel through the
 * events outbox, written by database triggers: see events/.)
 */
@Injectable()
export class EngineEvents {
  readonly taskFailed = new InTransactionEvent<TaskFailed>();
  readonly runFailed = new InTransactionEvent<RunFailed>();
  readonly outletsUpdated = new InTransactionEvent<OutletsUpdated>();
  readonly runsMayStart = new AfterCommitEvent<RunsMayStart>('runs may start', (e) => e.dagId);
}
