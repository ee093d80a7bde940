import { Injectable } from '@nestjs/common';
import type { Queryable } from '../../database/pg.js';
import type { RunRow, TaskInstanceRow } from './domain/run-rows.js';
import { DagSchedulingRepository, RunsRepository, type DagSchedulingRow } from './runs.repository.js';

/**
 * What the kernel offers the features that create and drive runs from outside it (the scheduler's jobs, backfills,
 * dataset-triggered runs, subscriptions): the DAG row lock that serialises run creation and run starts per DAG, the
 * run and task-instance locks a change of theirs takes first, and the few reads those features decide on. The
 * changes themselves are RunEngine's. Other features come here, never to the kernel's repositories (lint rule).
 */
@Injectable()
export class RunScheduling {
  constructor(
    private readonly runs: RunsRepository,
    private readonly dags: DagSchedulingRepository,
  ) {}

  dagExists(db: Queryable, dagId: string): Promise<boolean> {
    return this.dags.exists(db, dagId);
  }

  /** The id of the DAG's latest version, null for an unknown DAG. */
  currentVersionId(db: Queryable, dagId: string): Promise<number | null> {
    return this.dags.currentVersionId(db, dagId);
  }

  /** Locks a DAG row (waiting for other holders): taken before creating or starting runs of that DAG. */
  lockDag(db: Queryable, dagId: string): Promise<DagSchedulingRow | null> {
    return this.dags.lockDag(db, dagId);
  }

  /** Like lockDag, but skips a DAG another scheduler is working on. */
  tryLockDag(db: Queryable, dagId: string): Promise<DagSchedulingRow | null> {
    return this.dags.tryLockDag(db, dagId);
  }

  /** Up to `limit` due DAGs, locked with SKIP LOCKED (see DagSchedulingRepository.lockDueDags). */
  lockDueDags(db: Queryable, now: Date, limit: number, except: string[]): Promise<DagSchedulingRow[]> {
    return this.dags.lockDueDags(db, now, limit, except);
  }

  setNextDagruns(db: Queryable, next: Array<{ dagId: string; logicalDate: Date | null; createAfter: Date | null }>): Promise<void> {
    return this.dags.setNextDagruns(db, next);
  }

  /** Per DAG, the logical date of its latest scheduled run. */
  latestScheduledLogicalDates(db: Queryable, dagIds: string[]): Promise<Map<string, Date>> {
    return this.runs.latestScheduledLogicalDates(db, dagIds);
  }

  /** The DAGs' queued runs that fit under their maxActiveRuns; the caller holds the DAG row locks. */
  startableRunsOfDags(db: Queryable, dags: Array<{ dagId: string; maxActiveRuns: number }>): Promise<RunRow[]> {
    return this.runs.startableRunsOfDags(db, dags);
  }

  lockRun(db: Queryable, id: number): Promise<RunRow | null> {
    return this.runs.lockRun(db, id);
  }

  /** Like lockRun, but skips a run another transaction holds (periodic jobs come back to it). */
  tryLockRun(db: Queryable, id: number): Promise<RunRow | null> {
    return this.runs.tryLockRun(db, id);
  }

  lockTaskInstance(db: Queryable, id: number): Promise<TaskInstanceRow | null> {
    return this.runs.lockTaskInstance(db, id);
  }

  lockTaskInstancesOfRun(db: Queryable, dagRunId: number): Promise<TaskInstanceRow[]> {
    return this.runs.lockTaskInstancesOfRun(db, dagRunId);
  }
}
