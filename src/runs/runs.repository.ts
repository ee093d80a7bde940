import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../database/pg.js';
import type { DagDocument } from '../dags/domain/dag-document.schema.js';
import type { TaskSettings } from './domain/dag-tasks.js';
import type { RunState } from './domain/run-state.js';
import type { TaskState } from './domain/task-state.js';

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

export type NewRun = {
  dagId: string;
  runId: string;
  dagVersionId: number;
  runType: RunRow['runType'];
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  runAfter: Date;
  conf: Record<string, unknown>;
  backfillId?: number | null;
};

export type RunFilter = {
  dagId: string;
  state?: RunState[];
  logicalDateGte?: Date;
  logicalDateLte?: Date;
  runType?: RunRow['runType'];
  limit: number;
  offset: number;
};

const RUN_COLUMNS = `id, dag_id AS "dagId", run_id AS "runId", dag_version_id AS "dagVersionId", run_type AS "runType",
  state, logical_date AS "logicalDate", data_interval_start AS "dataIntervalStart", data_interval_end AS "dataIntervalEnd",
  run_after AS "runAfter", conf, backfill_id AS "backfillId", clear_number AS "clearNumber", queued_at AS "queuedAt",
  start_date AS "startDate", end_date AS "endDate"`;

/** Runs of an active backfill are started by the backfill (under its own maxActiveRuns), not by the DAG. */
const NOT_IN_ACTIVE_BACKFILL = `(backfill_id IS NULL OR backfill_id NOT IN (
  SELECT id FROM backfills WHERE completed_at IS NULL AND canceled_at IS NULL))`;

const TI_COLUMNS = `id, dag_run_id AS "dagRunId", dag_id AS "dagId", run_id AS "runId", task_id AS "taskId", state,
  try_number AS "tryNumber", max_tries AS "maxTries", task_type AS "taskType", queue, pool, pool_slots AS "poolSlots",
  priority_weight AS "priorityWeight", logical_date AS "logicalDate", scheduled_at AS "scheduledAt",
  queued_at AS "queuedAt", start_date AS "startDate", end_date AS "endDate", next_retry_at AS "nextRetryAt",
  last_error AS "lastError"`;

/**
 * Channel that wakes waiting lease requests: the payload is the queue that received work, or SLOT_FREED when a
 * pool or maxActiveTasks slot opened for work that was already queued (on any queue).
 */
export const QUEUED_CHANNEL = 'weft_task_queued';
/** Not a valid queue name (ids exclude '*'), so it cannot clash with one. */
export const SLOT_FREED = '*';

/**
 * The only code that reads and writes dag_runs and task_instances. Methods that take a `Queryable` run inside
 * the caller's transaction; state values they write were checked against the transition tables by the caller.
 */
@Injectable()
export class RunsRepository {
  constructor(@Inject(PG_POOL) readonly pool: pg.Pool) {}

  /** Inserts a queued run and its task instances; null when the DAG already has a run at that logical date or id. */
  async insertRun(db: Queryable, run: NewRun, tasks: TaskSettings[]): Promise<RunRow | null> {
    const { rows } = await db.query<RunRow>(
      `INSERT INTO dag_runs (dag_id, run_id, dag_version_id, run_type, state, logical_date, data_interval_start,
         data_interval_end, run_after, conf, backfill_id, queued_at, updated_at)
       VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, $9, $10, now(), now())
       ON CONFLICT DO NOTHING
       RETURNING ${RUN_COLUMNS}`,
      [run.dagId, run.runId, run.dagVersionId, run.runType, run.logicalDate, run.dataIntervalStart,
        run.dataIntervalEnd, run.runAfter, JSON.stringify(run.conf), run.backfillId ?? null],
    );
    const created = rows[0];
    if (!created) return null;
    await db.query(
      `INSERT INTO task_instances (dag_run_id, dag_id, run_id, task_id, task_type, queue, pool, pool_slots,
         priority_weight, max_tries, execution_timeout_sec, sla_deadline, logical_date, updated_at)
       SELECT $1, $2, $3, t.task_id, t.task_type, t.queue, t.pool, t.pool_slots, t.priority_weight, t.max_tries,
         t.timeout, $14::timestamptz + make_interval(secs => t.sla), $4, now()
       FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::int[], $11::int[], $12::int[], $13::float8[])
         AS t(task_id, task_type, queue, pool, pool_slots, priority_weight, max_tries, timeout, sla)`,
      [created.id, run.dagId, run.runId, run.logicalDate,
        tasks.map((t) => t.taskId), tasks.map((t) => t.taskType), tasks.map((t) => t.queue), tasks.map((t) => t.pool),
        tasks.map((t) => t.poolSlots), tasks.map((t) => t.priorityWeight), tasks.map((t) => t.retries + 1),
        tasks.map((t) => (t.executionTimeoutSec === null ? null : Math.ceil(t.executionTimeoutSec))),
        tasks.map((t) => t.slaSec), run.dataIntervalEnd],
    );
    return created;
  }

  /**
   * Set-based creation for the scheduler's catch-up: every run of one DAG version and all their task instances in
   * two statements (one round trip), skipping dates that already have a run. Returns how many runs were created.
   */
  async insertRuns(db: Queryable, runs: NewRun[], tasks: TaskSettings[]): Promise<number> {
    if (!runs.length) return 0;
    const { rows } = await db.query<{ n: number }>(
      `WITH new_runs AS (
         INSERT INTO dag_runs (dag_id, run_id, dag_version_id, run_type, state, logical_date, data_interval_start,
           data_interval_end, run_after, conf, backfill_id, queued_at, updated_at)
         SELECT $1, r.run_id, $2, $3::"RunType", 'queued', r.logical_date, r.start, r.end_, r.run_after, r.conf, NULL, now(), now()
         FROM unnest($4::text[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::jsonb[])
           AS r(run_id, logical_date, start, end_, run_after, conf)
         ON CONFLICT DO NOTHING
         RETURNING id, run_id, logical_date, data_interval_end),
       new_tis AS (
         INSERT INTO task_instances (dag_run_id, dag_id, run_id, task_id, task_type, queue, pool, pool_slots,
           priority_weight, max_tries, execution_timeout_sec, sla_deadline, logical_date, updated_at)
         SELECT r.id, $1, r.run_id, t.task_id, t.task_type, t.queue, t.pool, t.pool_slots, t.priority_weight, t.max_tries,
           t.timeout, r.data_interval_end + make_interval(secs => t.sla), r.logical_date, now()
         FROM new_runs r
         CROSS JOIN unnest($10::text[], $11::text[], $12::text[], $13::text[], $14::int[], $15::int[], $16::int[], $17::int[], $18::float8[])
           AS t(task_id, task_type, queue, pool, pool_slots, priority_weight, max_tries, timeout, sla)
         RETURNING 1)
       SELECT (SELECT count(*) FROM new_runs)::int AS n, (SELECT count(*) FROM new_tis)::int AS tis`,
      [
        runs[0]!.dagId, runs[0]!.dagVersionId, runs[0]!.runType,
        runs.map((r) => r.runId), runs.map((r) => r.logicalDate), runs.map((r) => r.dataIntervalStart),
        runs.map((r) => r.dataIntervalEnd), runs.map((r) => r.runAfter), runs.map((r) => JSON.stringify(r.conf)),
        tasks.map((t) => t.taskId), tasks.map((t) => t.taskType), tasks.map((t) => t.queue), tasks.map((t) => t.pool),
        tasks.map((t) => t.poolSlots), tasks.map((t) => t.priorityWeight), tasks.map((t) => t.retries + 1),
        tasks.map((t) => (t.executionTimeoutSec === null ? null : Math.ceil(t.executionTimeoutSec))), tasks.map((t) => t.slaSec),
      ],
    );
    return rows[0]!.n;
  }

  async findRunByRunId(db: Queryable, dagId: string, runId: string): Promise<RunRow | null> {
    const { rows } = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM dag_runs WHERE dag_id = $1 AND run_id = $2`, [dagId, runId]);
    return rows[0] ?? null;
  }

  async findRunByLogicalDate(db: Queryable, dagId: string, logicalDate: Date): Promise<RunRow | null> {
    const { rows } = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM dag_runs WHERE dag_id = $1 AND logical_date = $2`, [dagId, logicalDate]);
    return rows[0] ?? null;
  }

  /** Locks a run; every change to a run's task states happens under this lock, so joins see each other's results. */
  async lockRun(db: Queryable, id: number): Promise<RunRow | null> {
    const { rows } = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM dag_runs WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] ?? null;
  }

  /** Like lockRun, but skips a run another transaction holds (periodic jobs come back to it). */
  async tryLockRun(db: Queryable, id: number): Promise<RunRow | null> {
    const { rows } = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM dag_runs WHERE id = $1 FOR UPDATE SKIP LOCKED`, [id]);
    return rows[0] ?? null;
  }

  async setRunState(db: Queryable, id: number, from: RunState, to: RunState, now: Date): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE dag_runs SET state = $3::"RunState", updated_at = $4,
         start_date = CASE WHEN $3::"RunState" = 'running' THEN coalesce(start_date, $4) ELSE start_date END,
         end_date = CASE WHEN $3::"RunState" IN ('success', 'failed') THEN $4 ELSE NULL END
       WHERE id = $1 AND state = $2::"RunState"`,
      [id, from, to, now],
    );
    return rowCount === 1;
  }

  /** Running runs that count against the DAG's maxActiveRuns: those of an active backfill count against its own. */
  async countActiveScheduleRuns(db: Queryable, dagId: string): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM dag_runs WHERE dag_id = $1 AND state = 'running' AND ${NOT_IN_ACTIVE_BACKFILL}`,
      [dagId],
    );
    return rows[0]!.n;
  }

  /** Queued runs of a DAG in the order they may start: oldest logical date first (active backfills start their own). */
  async queuedRuns(db: Queryable, dagId: string, limit: number): Promise<RunRow[]> {
    const { rows } = await db.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM dag_runs WHERE dag_id = $1 AND state = 'queued' AND ${NOT_IN_ACTIVE_BACKFILL}
       ORDER BY logical_date LIMIT $2`,
      [dagId, limit],
    );
    return rows;
  }

  /** Every task instance of a run, locked (the caller holds the run lock): for clear and mark. */
  async lockTaskInstancesOfRun(db: Queryable, dagRunId: number): Promise<TaskInstanceRow[]> {
    const { rows } = await db.query<TaskInstanceRow>(
      `SELECT ${TI_COLUMNS} FROM task_instances WHERE dag_run_id = $1 ORDER BY id FOR UPDATE`,
      [dagRunId],
    );
    return rows;
  }

  /**
   * Ends the live attempt of a task instance from outside (clear, mark): its lease row goes, so the worker's
   * next heartbeat or completion gets 409 and its output is discarded.
   */
  async fenceAttempt(db: Queryable, ti: TaskInstanceRow, reason: string, now: Date): Promise<void> {
    await db.query('DELETE FROM leases WHERE task_instance_id = $1', [ti.id]);
    await db.query(
      `UPDATE task_instance_tries SET state = 'failed', end_date = $3, error = $4
       WHERE task_instance_id = $1 AND try_number = $2 AND end_date IS NULL`,
      [ti.id, ti.tryNumber, now, reason],
    );
  }

  /** Back to none for a new attempt, with the task's full retries again (Airflow: max_tries = try_number + retries). */
  async resetTaskInstances(db: Queryable, items: { id: number; retries: number }[], now: Date): Promise<void> {
    if (!items.length) return;
    await db.query(
      `UPDATE task_instances ti SET state = 'none', start_date = NULL, end_date = NULL, scheduled_at = NULL,
         queued_at = NULL, next_retry_at = NULL, next_poke_at = NULL, last_error = NULL,
         max_tries = ti.try_number + r.retries + 1, updated_at = $3
       FROM unnest($1::int[], $2::int[]) AS r(id, retries) WHERE ti.id = r.id`,
      [items.map((i) => i.id), items.map((i) => i.retries), now],
    );
  }

  async setTaskStates(db: Queryable, ids: number[], state: TaskState, now: Date): Promise<void> {
    if (!ids.length) return;
    await db.query(
      `UPDATE task_instances SET state = $2, end_date = $3, updated_at = $3, next_retry_at = NULL WHERE id = ANY($1::int[])`,
      [ids, state, now],
    );
  }

  async bumpClearNumber(db: Queryable, dagRunId: number): Promise<void> {
    await db.query('UPDATE dag_runs SET clear_number = clear_number + 1 WHERE id = $1', [dagRunId]);
  }

  async runsForClear(db: Queryable, f: { dagId: string; runIds?: string[]; logicalDateGte?: Date; logicalDateLte?: Date }): Promise<RunRow[]> {
    const { rows } = await db.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM dag_runs WHERE dag_id = $1
         AND ($2::text[] IS NULL OR run_id = ANY($2::text[]))
         AND ($3::timestamptz IS NULL OR logical_date >= $3) AND ($4::timestamptz IS NULL OR logical_date <= $4)
       ORDER BY logical_date`,
      [f.dagId, f.runIds ?? null, f.logicalDateGte ?? null, f.logicalDateLte ?? null],
    );
    return rows;
  }

  async dagsWithQueuedRuns(db: Queryable, limit: number): Promise<string[]> {
    const { rows } = await db.query<{ dag_id: string }>(
      `SELECT DISTINCT dag_id FROM dag_runs WHERE state = 'queued' LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.dag_id);
  }

  async latestScheduledLogicalDate(db: Queryable, dagId: string): Promise<Date | null> {
    const { rows } = await db.query<{ d: Date | null }>(
      `SELECT max(logical_date) AS d FROM dag_runs WHERE dag_id = $1 AND run_type = 'scheduled'`,
      [dagId],
    );
    return rows[0]?.d ?? null;
  }

  async taskStates(db: Queryable, dagRunId: number): Promise<Map<string, TaskState>> {
    const { rows } = await db.query<{ task_id: string; state: TaskState }>(
      `SELECT task_id, state FROM task_instances WHERE dag_run_id = $1`,
      [dagRunId],
    );
    return new Map(rows.map((r) => [r.task_id, r.state]));
  }

  /**
   * Moves tasks whose dependencies are met from none to queued (through scheduled) and tells waiting workers;
   * returns the queues that received work.
   */
  async queueTasks(db: Queryable, dagRunId: number, taskIds: string[], now: Date): Promise<string[]> {
    if (!taskIds.length) return [];
    const { rows } = await db.query<{ queue: string }>(
      `UPDATE task_instances SET state = 'queued', scheduled_at = $3, queued_at = $3, updated_at = $3
       WHERE dag_run_id = $1 AND task_id = ANY($2::text[]) AND state = 'none'
       RETURNING queue`,
      [dagRunId, taskIds, now],
    );
    const queues = [...new Set(rows.map((r) => r.queue))];
    for (const queue of queues) await db.query('SELECT pg_notify($1, $2)', [QUEUED_CHANNEL, queue]);
    return queues;
  }

  /** Tasks evaluated by the scheduler itself (sensors) wait in `scheduled` until they are poked. */
  async scheduleSensorTasks(db: Queryable, dagRunId: number, taskIds: string[], now: Date): Promise<void> {
    if (!taskIds.length) return;
    await db.query(
      `UPDATE task_instances SET state = 'scheduled', scheduled_at = $3, next_poke_at = $3, updated_at = $3
       WHERE dag_run_id = $1 AND task_id = ANY($2::text[]) AND state = 'none'`,
      [dagRunId, taskIds, now],
    );
  }

  /** Finishes tasks that will never run (upstream_failed or skipped) without an attempt. */
  async finishUnrunTasks(db: Queryable, dagRunId: number, taskIds: string[], to: 'upstream_failed' | 'skipped', now: Date): Promise<void> {
    if (!taskIds.length) return;
    await db.query(
      `UPDATE task_instances SET state = $3, end_date = $4, updated_at = $4
       WHERE dag_run_id = $1 AND task_id = ANY($2::text[]) AND state = 'none'`,
      [dagRunId, taskIds, to, now],
    );
  }

  async lockTaskInstance(db: Queryable, id: number): Promise<TaskInstanceRow | null> {
    const { rows } = await db.query<TaskInstanceRow>(`SELECT ${TI_COLUMNS} FROM task_instances WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] ?? null;
  }

  /** Records the end of the current attempt on the task instance and on its try row. */
  async finishAttempt(
    db: Queryable,
    ti: TaskInstanceRow,
    to: TaskState,
    now: Date,
    opts: { error: string | null; nextRetryAt: Date | null },
  ): Promise<void> {
    await db.query(
      `UPDATE task_instances SET state = $2, end_date = $3, updated_at = $3, next_retry_at = $4, last_error = $5
       WHERE id = $1`,
      [ti.id, to, now, opts.nextRetryAt, opts.error],
    );
    await db.query(
      `UPDATE task_instance_tries SET state = $3, end_date = $4, error = $5 WHERE task_instance_id = $1 AND try_number = $2`,
      [ti.id, ti.tryNumber, to, now, opts.error],
    );
  }

  /** Task instances queued since before `before` (oldest first). */
  async queuedSince(db: Queryable, before: Date, limit: number): Promise<TaskInstanceRow[]> {
    const { rows } = await db.query<TaskInstanceRow>(
      `SELECT ${TI_COLUMNS} FROM task_instances WHERE state = 'queued' AND queued_at < $1 ORDER BY queued_at LIMIT $2`,
      [before, limit],
    );
    return rows;
  }

  async failQueued(db: Queryable, id: number, error: string, now: Date): Promise<void> {
    await db.query(
      `UPDATE task_instances SET state = 'failed', end_date = $3, updated_at = $3, last_error = $2 WHERE id = $1 AND state = 'queued'`,
      [id, error, now],
    );
  }

  /** Up-for-retry tasks whose delay has passed go back to queued; SKIP LOCKED lets schedulers share the work. */
  async requeueDueRetries(db: Queryable, now: Date, limit: number): Promise<number> {
    const { rows } = await db.query<{ queue: string }>(
      `UPDATE task_instances SET state = 'queued', queued_at = $1, updated_at = $1, next_retry_at = NULL
       WHERE id IN (
         SELECT id FROM task_instances WHERE state = 'up_for_retry' AND next_retry_at <= $1
         ORDER BY next_retry_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING queue`,
      [now, limit],
    );
    for (const queue of new Set(rows.map((r) => r.queue))) await db.query('SELECT pg_notify($1, $2)', [QUEUED_CHANNEL, queue]);
    return rows.length;
  }

  async loadVersionDocument(db: Queryable, versionId: number): Promise<DagDocument> {
    const { rows } = await db.query<{ document: DagDocument }>(`SELECT document FROM dag_versions WHERE id = $1`, [versionId]);
    if (!rows[0]) throw new Error(`dag version ${versionId} not found`);
    return rows[0].document;
  }

  // ---- reads for the API ----

  async listRuns(f: RunFilter): Promise<{ items: RunRow[]; total: number }> {
    const where = ['dag_id = $1'];
    const params: unknown[] = [f.dagId];
    if (f.state?.length) where.push(`state = ANY($${params.push(f.state)}::"RunState"[])`);
    if (f.logicalDateGte) where.push(`logical_date >= $${params.push(f.logicalDateGte)}`);
    if (f.logicalDateLte) where.push(`logical_date <= $${params.push(f.logicalDateLte)}`);
    if (f.runType) where.push(`run_type = $${params.push(f.runType)}`);
    const cond = where.join(' AND ');
    const [items, total] = await Promise.all([
      this.pool.query<RunRow>(
        `SELECT ${RUN_COLUMNS} FROM dag_runs WHERE ${cond} ORDER BY logical_date DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, f.limit, f.offset],
      ),
      this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM dag_runs WHERE ${cond}`, params),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
  }

  async taskInstances(dagRunId: number): Promise<TaskInstanceRow[]> {
    const { rows } = await this.pool.query<TaskInstanceRow>(
      `SELECT ${TI_COLUMNS} FROM task_instances WHERE dag_run_id = $1 ORDER BY id`,
      [dagRunId],
    );
    return rows;
  }

  /** Task instances of several runs in one query (GraphQL batches nested run → taskInstances with it). */
  async taskInstancesOfRuns(dagRunIds: number[]): Promise<TaskInstanceRow[]> {
    const { rows } = await this.pool.query<TaskInstanceRow>(
      `SELECT ${TI_COLUMNS} FROM task_instances WHERE dag_run_id = ANY($1::int[]) ORDER BY dag_run_id, id`,
      [dagRunIds],
    );
    return rows;
  }

  async taskInstance(dagRunId: number, taskId: string): Promise<TaskInstanceRow | null> {
    const { rows } = await this.pool.query<TaskInstanceRow>(
      `SELECT ${TI_COLUMNS} FROM task_instances WHERE dag_run_id = $1 AND task_id = $2`,
      [dagRunId, taskId],
    );
    return rows[0] ?? null;
  }

  async tries(taskInstanceIds: number[]): Promise<Map<number, TryRow[]>> {
    const { rows } = await this.pool.query<TryRow & { taskInstanceId: number }>(
      `SELECT task_instance_id AS "taskInstanceId", try_number AS "tryNumber", state, worker_id AS "workerId", hostname,
         start_date AS "startDate", end_date AS "endDate", error
       FROM task_instance_tries WHERE task_instance_id = ANY($1::int[]) ORDER BY task_instance_id, try_number`,
      [taskInstanceIds],
    );
    const byTi = new Map<number, TryRow[]>();
    for (const { taskInstanceId, ...t } of rows) byTi.set(taskInstanceId, [...(byTi.get(taskInstanceId) ?? []), t]);
    return byTi;
  }
}

export type DagSchedulingRow = {
  dagId: string;
  isPaused: boolean;
  isActive: boolean;
  maxActiveRuns: number;
  latestVersion: number;
  versionId: number;
};

const DAG_SCHEDULING_COLUMNS = `d.dag_id AS "dagId", d.is_paused AS "isPaused", d.is_active AS "isActive",
  d.max_active_runs AS "maxActiveRuns", d.latest_version AS "latestVersion", v.id AS "versionId"`;

/** Scheduler bookkeeping on the dags table: the DAG row lock serialises run creation and run starts per DAG. */
@Injectable()
export class DagSchedulingRepository {
  async exists(db: Queryable, dagId: string): Promise<boolean> {
    const { rowCount } = await db.query('SELECT 1 FROM dags WHERE dag_id = $1', [dagId]);
    return rowCount === 1;
  }

  async currentVersionId(db: Queryable, dagId: string): Promise<number | null> {
    const { rows } = await db.query<{ id: number }>(
      'SELECT v.id FROM dags d JOIN dag_versions v ON v.dag_id = d.dag_id AND v.version = d.latest_version WHERE d.dag_id = $1',
      [dagId],
    );
    return rows[0]?.id ?? null;
  }

  /** Locks a DAG row (waiting for other holders): taken before creating or starting runs of that DAG. */
  async lockDag(db: Queryable, dagId: string): Promise<DagSchedulingRow | null> {
    const { rows } = await db.query<DagSchedulingRow>(
      `SELECT ${DAG_SCHEDULING_COLUMNS} FROM dags d
       JOIN dag_versions v ON v.dag_id = d.dag_id AND v.version = d.latest_version
       WHERE d.dag_id = $1 FOR UPDATE OF d`,
      [dagId],
    );
    return rows[0] ?? null;
  }

  /** Like lockDag, but skips a DAG another scheduler is working on. */
  async tryLockDag(db: Queryable, dagId: string): Promise<DagSchedulingRow | null> {
    const { rows } = await db.query<DagSchedulingRow>(
      `SELECT ${DAG_SCHEDULING_COLUMNS} FROM dags d
       JOIN dag_versions v ON v.dag_id = d.dag_id AND v.version = d.latest_version
       WHERE d.dag_id = $1 FOR UPDATE OF d SKIP LOCKED`,
      [dagId],
    );
    return rows[0] ?? null;
  }

  /** One DAG whose next run is due, locked; DAGs locked by other schedulers are skipped, not waited for. */
  async lockNextDueDag(db: Queryable, now: Date): Promise<DagSchedulingRow | null> {
    const { rows } = await db.query<DagSchedulingRow>(
      `SELECT ${DAG_SCHEDULING_COLUMNS} FROM dags d
       JOIN dag_versions v ON v.dag_id = d.dag_id AND v.version = d.latest_version
       WHERE d.is_active AND NOT d.is_paused AND d.next_dagrun_create_after <= $1
       ORDER BY d.next_dagrun_create_after
       LIMIT 1 FOR UPDATE OF d SKIP LOCKED`,
      [now],
    );
    return rows[0] ?? null;
  }

  async setNextDagrun(db: Queryable, dagId: string, next: { logicalDate: Date; createAfter: Date } | null): Promise<void> {
    await db.query(
      `UPDATE dags SET next_dagrun_logical_date = $2, next_dagrun_create_after = $3 WHERE dag_id = $1`,
      [dagId, next?.logicalDate ?? null, next?.createAfter ?? null],
    );
  }
}
