import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../../database/pg.js';
import { QUEUED_CHANNEL, SLOT_FREED } from '../leases/queued-channel.js';
import type { DagDocument } from '../../dags/domain/dag-document.schema.js';
import type { TaskSettings } from './domain/dag-tasks.js';
import type { RunState } from './domain/run-state.js';
import { UNFINISHED_TASK_STATES, type TaskState } from './domain/task-state.js';
import type { RunRow, TaskInstanceRow, TryRow } from './domain/run-rows.js';
import type { QueuedFacts } from './domain/queued-reason.js';
import type { XcomRow } from './domain/pulled-xcom.js';

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

/** Column → property of a run row (RUN_COLUMNS selects them; `columns` with a table alias and a prefix, for joins). */
const RUN_FIELDS: [string, keyof RunRow][] = [
  ['id', 'id'], ['dag_id', 'dagId'], ['run_id', 'runId'], ['dag_version_id', 'dagVersionId'], ['run_type', 'runType'],
  ['state', 'state'], ['logical_date', 'logicalDate'], ['data_interval_start', 'dataIntervalStart'],
  ['data_interval_end', 'dataIntervalEnd'], ['run_after', 'runAfter'], ['conf', 'conf'], ['backfill_id', 'backfillId'],
  ['clear_number', 'clearNumber'], ['queued_at', 'queuedAt'], ['start_date', 'startDate'], ['end_date', 'endDate'],
];

function columns(fields: [string, string][], table?: string, prefix = ''): string {
  return fields.map(([column, prop]) => `${table ? `${table}.` : ''}${column} AS "${prefix}${prop}"`).join(', ');
}

/** The properties of `row` named with `prefix`, without it (for rows of a join selected with `columns`). */
function unprefix<T>(row: Record<string, unknown>, prefix: string, fields: [string, string][]): T {
  return Object.fromEntries(fields.map(([, prop]) => [prop, row[`${prefix}${prop}`]])) as T;
}

const RUN_COLUMNS = columns(RUN_FIELDS);

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

/** The DAG row lock with its current version (DagSchedulingRepository.lockDag; the trigger's insert statement). */
const LOCK_DAG_SQL = `SELECT ${DAG_SCHEDULING_COLUMNS} FROM dags d
       JOIN dag_versions v ON v.dag_id = d.dag_id AND v.version = d.latest_version
       WHERE d.dag_id = $1 FOR UPDATE OF d`;

/** Runs of an active backfill are started by the backfill (under its own maxActiveRuns), not by the DAG. */
const NOT_IN_ACTIVE_BACKFILL_R = `(r.backfill_id IS NULL OR r.backfill_id NOT IN (
  SELECT id FROM backfills WHERE completed_at IS NULL AND canceled_at IS NULL))`;
const NOT_IN_ACTIVE_BACKFILL_X = `(x.backfill_id IS NULL OR x.backfill_id NOT IN (
  SELECT id FROM backfills WHERE completed_at IS NULL AND canceled_at IS NULL))`;

/** The startable-runs statement over `dags`, a FROM item of (dag_id, max_active) rows (see startableRuns). */
const startableRunsSql = (dags: string) => `SELECT ${RUN_COLUMNS} FROM dag_runs WHERE state = 'queued' AND id IN (
   SELECT q.id FROM ${dags} AS d(dag_id, max_active)
   CROSS JOIN LATERAL (
     SELECT r.id FROM dag_runs r
     WHERE r.dag_id = d.dag_id AND r.state = 'queued' AND ${NOT_IN_ACTIVE_BACKFILL_R}
     ORDER BY r.logical_date
     LIMIT greatest(0, d.max_active - (SELECT count(*) FROM dag_runs x WHERE x.dag_id = d.dag_id AND x.state = 'running' AND ${NOT_IN_ACTIVE_BACKFILL_X}))
   ) q)
 ORDER BY dag_id, logical_date
 FOR UPDATE`;
const STARTABLE_RUNS_OF_DAG_SQL = startableRunsSql('(VALUES ($1::text, $2::int))');
const STARTABLE_RUNS_OF_DAGS_SQL = startableRunsSql('unnest($1::text[], $2::int[])');

const TI_FIELDS: [string, keyof TaskInstanceRow][] = [
  ['id', 'id'], ['dag_run_id', 'dagRunId'], ['dag_id', 'dagId'], ['run_id', 'runId'], ['task_id', 'taskId'], ['map_index', 'mapIndex'], ['state', 'state'],
  ['try_number', 'tryNumber'], ['max_tries', 'maxTries'], ['task_type', 'taskType'], ['queue', 'queue'], ['pool', 'pool'],
  ['pool_slots', 'poolSlots'], ['priority_weight', 'priorityWeight'], ['logical_date', 'logicalDate'],
  ['scheduled_at', 'scheduledAt'], ['queued_at', 'queuedAt'], ['start_date', 'startDate'], ['end_date', 'endDate'],
  ['next_retry_at', 'nextRetryAt'], ['last_error', 'lastError'],
];

/**
 * The SET list of a task instance (`ti`) leaving `none` for `c.to_state` (text) at $4: queued or scheduled (a
 * sensor), or finished without an attempt (upstream_failed, skipped). applyEvaluation and startCreatedRun.
 */
const LEAVE_NONE_SET = `state = c.to_state::"TaskState", updated_at = $4,
           scheduled_at = CASE WHEN c.to_state IN ('queued', 'scheduled') THEN $4 ELSE ti.scheduled_at END,
           queued_at = CASE WHEN c.to_state = 'queued' THEN $4 ELSE ti.queued_at END,
           next_poke_at = CASE WHEN c.to_state = 'scheduled' THEN $4 ELSE ti.next_poke_at END,
           end_date = CASE WHEN c.to_state IN ('upstream_failed', 'skipped') THEN $4 ELSE ti.end_date END`;

const TI_COLUMNS = columns(TI_FIELDS);

/** A live attempt as a completion finds it: its run, task instance and lease, all three locked. */
export type LockedAttempt = {
  run: RunRow;
  ti: TaskInstanceRow;
  lease: { id: string; tryNumber: number; workerId: string; apiKeyId: string | null };
  /** The lease's worker's subscription, for complete-and-lease-next. */
  worker: { queues: string[]; taskTypes: string[] } | null;
};

/** What `weft_finish_quietly_many` answered for one completion. */
export type QuietFinish =
  | { outcome: 'stale' | 'forbidden' | 'evaluate' }
  | { outcome: 'done'; runState: RunState; dagId: string; startDate: Date | null; workerId: string; worker: { queues: string[]; taskTypes: string[] } | null };

/** A row of weft_finish_quietly_many. */
type QuietFinishRow = { outcome: string; runState: RunState; dagId: string; startDate: Date | null; workerId: string; queues: string[] | null; taskTypes: string[] | null };

function quietFinish(r: QuietFinishRow): QuietFinish {
  if (r.outcome !== 'done') return { outcome: r.outcome as 'stale' | 'forbidden' | 'evaluate' };
  return {
    outcome: 'done',
    runState: r.runState,
    dagId: r.dagId,
    startDate: r.startDate,
    workerId: r.workerId,
    worker: r.queues ? { queues: r.queues, taskTypes: r.taskTypes ?? [] } : null,
  };
}

/** What a statement that queued tasks returns per queue: the task instances, and whether it sent their NOTIFY. */
export type QueuedRow = { queue: string; ids: number[]; announced: boolean };

/** A task instance the engine ended without an attempt (a failed expansion, a built-in branch): what its events need. */
export type EndedWithoutAttempt = { id: number; mapIndex: number; tryNumber: number; maxTries: number };

/** Where a statement that queues tasks reports them: the transaction's lease hand-off (QueuedTasks of LeaseHandOff). */
export interface QueuedTasksSink {
  /** The queues whose NOTIFY the statement leaves to the end of the transaction. */
  queuesToDefer(): string[];
  note(rows: QueuedRow[]): void;
}

/**
 * The tail of a statement that queues tasks: `from` (a FROM clause over rows with `id` and `queue`: the tasks it
 * queued) counted per queue, NOTIFY `<queue>:<count>` on channel $`channel`, except for the queues in the text[]
 * parameter $`defer` (QueuedTasksSink.queuesToDefer), whose NOTIFY the transaction sends at its end for what its
 * hand-off did not take. One row per queue (QueuedRow), for QueuedTasksSink.note. Parameter numbers are constants, so
 * a statement built with it keeps a constant text (it is prepared by name).
 */
function announceQueued(from: string, channel: number, defer: number): string {
  return `${countQueued(from, channel, defer)} SELECT queue, ids, announced FROM announced`;
}

/** announceQueued's CTEs without its final SELECT: `announced` has the QueuedRow of each queue (for a statement that returns more). */
function countQueued(from: string, channel: number, defer: number): string {
  return `counted AS (SELECT queue, array_agg(id) AS ids, count(*) AS n FROM ${from} GROUP BY queue),
       announced AS (SELECT queue, ids, queue <> ALL ($${defer}::text[]) AS announced,
         (SELECT pg_notify($${channel}, queue || ':' || n) WHERE queue <> ALL ($${defer}::text[])) AS notified
       FROM counted)`;
}

/**
 * Inserts queued runs of one DAG version, type and backfill, and their task instances (insertRuns): the runs in
 * `new_runs`, from the rows of $4-$9 that pass `guard` (a WHERE clause, or nothing). Parameters: insertRunsValues.
 */
const insertRunsCtes = (guard: string) => `new_runs AS (
         INSERT INTO dag_runs (dag_id, run_id, dag_version_id, run_type, state, logical_date, data_interval_start,
           data_interval_end, run_after, conf, backfill_id, queued_at, updated_at)
         SELECT $1, r.run_id, $2, $3::"RunType", 'queued', r.logical_date, r.start, r.end_, r.run_after, r.conf, $19, $20::timestamptz, $20::timestamptz
         FROM unnest($4::text[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::jsonb[])
           AS r(run_id, logical_date, start, end_, run_after, conf)
         ${guard}
         ON CONFLICT DO NOTHING
         RETURNING *),
       new_tis AS (
         INSERT INTO task_instances (dag_run_id, dag_id, run_id, task_id, task_type, queue, pool, pool_slots,
           priority_weight, max_tries, execution_timeout_sec, sla_deadline, logical_date, updated_at)
         SELECT r.id, $1, r.run_id, t.task_id, t.task_type, t.queue, t.pool, t.pool_slots, t.priority_weight, t.max_tries,
           t.timeout, r.data_interval_end + make_interval(secs => t.sla), r.logical_date, $20::timestamptz
         FROM new_runs r
         CROSS JOIN unnest($10::text[], $11::text[], $12::text[], $13::text[], $14::int[], $15::int[], $16::int[], $17::int[], $18::float8[])
           AS t(task_id, task_type, queue, pool, pool_slots, priority_weight, max_tries, timeout, sla))`;

const INSERT_RUNS_SQL = `WITH ${insertRunsCtes('')} SELECT ${RUN_COLUMNS} FROM new_runs ORDER BY logical_date`;

/**
 * RunsRepository.lockDagAndInsertRun: the DAG lock (LOCK_DAG_SQL) in `dag`, evaluated before the insert, which
 * happens only when the locked DAG's version is the run's; the audit row ($21-$25) only with a run.
 */
const LOCK_DAG_INSERT_RUN_SQL = `WITH dag AS (${LOCK_DAG_SQL}),
       ${insertRunsCtes('WHERE (SELECT "versionId" FROM dag) = $2')},
       audit AS (INSERT INTO audit_log (api_key_id, actor, action, target, details)
         SELECT $21, $22, $23, $24, $25::jsonb FROM new_runs)
       SELECT dag.*, ${columns(RUN_FIELDS, 'nr', 'run.')} FROM dag LEFT JOIN new_runs nr ON true`;

/**
 * RunsRepository.startCreatedRun: the DAG's startable runs ($1, $2; locked), and only when they are exactly run $3,
 * its changes ($5, $6 at $4, as applyEvaluation) and its start; one row, or one per queue that received tasks.
 */
const START_CREATED_RUN_SQL = `WITH startable AS (${STARTABLE_RUNS_OF_DAG_SQL}),
       go AS (SELECT coalesce(array_agg(s."id"), '{}') AS ids, coalesce(array_agg(s."id") = ARRAY[$3::int], false) AS ok FROM startable s),
       changed AS (
         UPDATE task_instances ti SET ${LEAVE_NONE_SET}
         FROM unnest($5::text[], $6::text[]) AS c(task_id, to_state)
         WHERE ti.dag_run_id = $3 AND ti.task_id = c.task_id AND ti.state::text = 'none' AND (SELECT ok FROM go)
         RETURNING ti.id, ti.queue, ti.state),
       started AS (
         UPDATE dag_runs r SET state = 'running', updated_at = $4, start_date = coalesce(r.start_date, $4)
         WHERE r.id = $3 AND r.state = 'queued' AND (SELECT ok FROM go)
         RETURNING r.id),
       ${countQueued("changed WHERE state = 'queued'", 7, 8)}
       SELECT EXISTS (SELECT 1 FROM started) AS started, go.ids AS startable, a.queue, a.ids, a.announced
       FROM go LEFT JOIN announced a ON true`;

/** The parameters of INSERT_RUNS_SQL ($1-$20). */
function insertRunsValues(runs: NewRun[], tasks: TaskSettings[], now: Date): unknown[] {
  return [
    runs[0]!.dagId, runs[0]!.dagVersionId, runs[0]!.runType,
    runs.map((r) => r.runId), runs.map((r) => r.logicalDate), runs.map((r) => r.dataIntervalStart),
    runs.map((r) => r.dataIntervalEnd), runs.map((r) => r.runAfter), runs.map((r) => JSON.stringify(r.conf)),
    tasks.map((t) => t.taskId), tasks.map((t) => t.taskType), tasks.map((t) => t.queue), tasks.map((t) => t.pool),
    tasks.map((t) => t.poolSlots), tasks.map((t) => t.priorityWeight), tasks.map((t) => t.retries + 1),
    tasks.map((t) => (t.executionTimeoutSec === null ? null : Math.ceil(t.executionTimeoutSec))), tasks.map((t) => t.slaSec),
    runs[0]!.backfillId ?? null, now,
  ];
}

/** An audit_log row as AuditService.resolve gives it, for a statement that writes its change's audit entry itself. */
export type AuditRowValues = { apiKeyId: string | null; actor: string | null; action: string; target: string; details: Record<string, unknown> };

/** Task-instance rows of one run as each task's instance states. */
function statesByTask(rows: readonly { task_id: string; state: TaskState }[]): Map<string, TaskState[]> {
  const states = new Map<string, TaskState[]>();
  for (const r of rows) {
    const list = states.get(r.task_id);
    if (list) list.push(r.state);
    else states.set(r.task_id, [r.state]);
  }
  return states;
}

/**
 * The only code that reads and writes dag_runs and task_instances. Methods that take a `Queryable` run inside
 * the caller's transaction; state values they write were checked against the transition tables by the caller.
 */
@Injectable()
export class RunsRepository {
  constructor(@Inject(PG_POOL) readonly pool: pg.Pool) {}

  /**
   * Inserts a queued run and its task instances in one statement; null when the DAG already has a run at that
   * logical date or id.
   */
  async insertRun(db: Queryable, run: NewRun, tasks: TaskSettings[], now: Date): Promise<RunRow | null> {
    const [created] = await this.insertRuns(db, [run], tasks, now);
    return created ?? null;
  }

  /**
   * Set-based creation (the scheduler's catch-up, backfills, triggers): runs of one DAG version, of one type and
   * backfill, and all their task instances in one statement, skipping dates or run ids that already have a run.
   * Returns the runs created. `now` stamps them (queued_at): the transaction's one clock, which also stamps their start.
   */
  async insertRuns(db: Queryable, runs: NewRun[], tasks: TaskSettings[], now: Date): Promise<RunRow[]> {
    if (!runs.length) return [];
    const { rows } = await db.query<RunRow>({
      name: 'weft_insert_runs',
      text: INSERT_RUNS_SQL,
      values: insertRunsValues(runs, tasks, now),
    });
    return rows;
  }

  /**
   * A manual trigger's first statement: locks the DAG row (as DagSchedulingRepository.lockDag) and, when the DAG's
   * current version is `run.dagVersionId` (the caller's guess), inserts the run with its task instances and its audit
   * row, all in one round trip. `dag` null: no such DAG, or a registration changed it while this waited for its lock
   * (the caller locks again, in a new statement, to tell which). `run` null with the guessed version: the DAG already
   * has a run at that id or date; with another version: nothing was inserted (the caller inserts with that version).
   */
  async lockDagAndInsertRun(
    db: Queryable,
    run: NewRun,
    tasks: TaskSettings[],
    audit: AuditRowValues,
    now: Date,
  ): Promise<{ dag: DagSchedulingRow | null; run: RunRow | null }> {
    const { rows } = await db.query<DagSchedulingRow & Record<string, unknown>>({
      name: 'weft_lock_dag_insert_run',
      text: LOCK_DAG_INSERT_RUN_SQL,
      values: [...insertRunsValues([run], tasks, now), audit.apiKeyId, audit.actor, audit.action, audit.target, JSON.stringify(audit.details)],
    });
    const row = rows[0];
    if (!row) return { dag: null, run: null };
    const { dagId, isPaused, isActive, maxActiveRuns, latestVersion, versionId } = row;
    return {
      dag: { dagId, isPaused, isActive, maxActiveRuns, latestVersion, versionId },
      run: row['run.id'] === null ? null : unprefix<RunRow>(row, 'run.', RUN_FIELDS),
    };
  }

  /**
   * Starts a run this transaction created (queued, every task in `none`) in one statement, when it is the only run of
   * its DAG that may start now (startableRuns, under the DAG lock the caller holds): the run goes to running and
   * `changes` (its fresh plan: tasks leaving `none`) are applied and announced as applyEvaluation does. Otherwise it
   * changes nothing: `startable` says which runs may start (none: the run waits for a slot; others: older queued runs
   * come first, and the caller starts them the general way).
   */
  async startCreatedRun(
    db: Queryable,
    dag: { dagId: string; maxActiveRuns: number },
    runId: number,
    changes: { taskId: string; to: 'queued' | 'scheduled' | 'upstream_failed' | 'skipped' }[],
    now: Date,
    queued: QueuedTasksSink,
  ): Promise<{ started: boolean; startable: number[] }> {
    const defer = queued.queuesToDefer();
    const { rows } = await db.query<QueuedRow & { started: boolean; startable: number[] }>({
      name: 'weft_start_created_run',
      text: START_CREATED_RUN_SQL,
      values: [dag.dagId, dag.maxActiveRuns, runId, now, changes.map((c) => c.taskId), changes.map((c) => c.to), QUEUED_CHANNEL, defer],
    });
    const first = rows[0]!;
    if (first.started) queued.note(rows.filter((r) => r.queue !== null));
    return { started: first.started, startable: first.startable };
  }

  async findRunByRunId(db: Queryable, dagId: string, runId: string): Promise<RunRow | null> {
    const { rows } = await db.query<RunRow>({
      name: 'weft_find_run_by_run_id',
      text: `SELECT ${RUN_COLUMNS} FROM dag_runs WHERE dag_id = $1 AND run_id = $2`,
      values: [dagId, runId],
    });
    return rows[0] ?? null;
  }

  async findRunByLogicalDate(db: Queryable, dagId: string, logicalDate: Date): Promise<RunRow | null> {
    const { rows } = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM dag_runs WHERE dag_id = $1 AND logical_date = $2`, [dagId, logicalDate]);
    return rows[0] ?? null;
  }

  /** Locks a run; every change to a run's task states happens under this lock, so joins see each other's results. */
  async lockRun(db: Queryable, id: number): Promise<RunRow | null> {
    const { rows } = await db.query<RunRow>({
      name: 'weft_lock_run',
      text: `SELECT ${RUN_COLUMNS} FROM dag_runs WHERE id = $1 FOR UPDATE`,
      values: [id],
    });
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

  /**
   * The DAG's queued runs that may start now, locked, oldest logical date first: as many as maxActiveRuns leaves
   * room for beside its running runs (runs of an active backfill count against the backfill's own limit, and the
   * backfill starts them). The caller holds the DAG's row lock, which serialises everything that starts its runs.
   */
  async startableRuns(db: Queryable, dagId: string, maxActiveRuns: number): Promise<RunRow[]> {
    // One DAG (a trigger, a run that ended): its own statement with scalar parameters. With arrays, the generic plan
    // assumes ten DAGs and costs ten times the custom one, so PostgreSQL planned the statement anew on every call
    // (~0.4 ms); with scalars the generic plan is the custom one and is kept.
    const { rows } = await db.query<RunRow>({
      name: 'weft_startable_runs_of_dag',
      text: STARTABLE_RUNS_OF_DAG_SQL,
      values: [dagId, maxActiveRuns],
    });
    return rows;
  }

  /**
   * startableRuns for several DAGs in one statement: per DAG, its oldest queued runs while fewer than its
   * maxActiveRuns run, locked. The caller holds the DAGs' row locks.
   */
  async startableRunsOfDags(db: Queryable, dags: Array<{ dagId: string; maxActiveRuns: number }>): Promise<RunRow[]> {
    if (!dags.length) return [];
    const { rows } = await db.query<RunRow>({
      name: 'weft_startable_runs',
      text: STARTABLE_RUNS_OF_DAGS_SQL,
      values: [dags.map((d) => d.dagId), dags.map((d) => d.maxActiveRuns)],
    });
    return rows;
  }

  /** Whether the DAG has queued runs: anything RunStarter could start. */
  async hasQueuedRuns(db: Queryable, dagId: string): Promise<boolean> {
    const { rows } = await db.query<{ queued: boolean }>({
      name: 'weft_has_queued_runs',
      text: `SELECT EXISTS (SELECT 1 FROM dag_runs WHERE dag_id = $1 AND state = 'queued') AS queued`,
      values: [dagId],
    });
    return rows[0]!.queued;
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
   * Ends the live attempt of a task instance from outside (clear, mark): its lease is cancelled (cancelRequested),
   * so it is no longer the live attempt (its completion gets 409 and its output is discarded; the task instance may
   * start another attempt at once), and the worker's next heartbeat tells it to stop (cancelLease).
   */
  async fenceAttempt(db: Queryable, ti: TaskInstanceRow, reason: string, now: Date): Promise<void> {
    await db.query('UPDATE leases SET cancel_requested = true WHERE task_instance_id = $1 AND NOT cancel_requested', [ti.id]);
    await db.query(
      `UPDATE task_instance_tries SET state = 'failed', end_date = $3, error = $4
       WHERE task_instance_id = $1 AND try_number = $2 AND end_date IS NULL`,
      [ti.id, ti.tryNumber, now, reason],
    );
    // The task instance leaves `running` in this transaction, so its DAG's maxActiveTasks slot is free at commit (its
    // pool slots stay with the cancelled lease until its worker reports, which ends it through weft_end_attempt):
    // announce it like an ending attempt does, or a lease request blocked on that slot waits for its next re-check.
    // Fences are operator actions and execution timeouts, rare enough to announce always (one NOTIFY per transaction:
    // PostgreSQL folds identical ones).
    await db.query('SELECT pg_notify($1, $2)', [QUEUED_CHANNEL, SLOT_FREED]);
  }

  /** Back to none for a new attempt, with the task's full retries again (Airflow: max_tries = try_number + retries). */
  async resetTaskInstances(db: Queryable, items: { id: number; retries: number }[], now: Date): Promise<void> {
    if (!items.length) return;
    await db.query(
      `UPDATE task_instances ti SET state = 'none', start_date = NULL, end_date = NULL, scheduled_at = NULL,
         queued_at = NULL, next_retry_at = NULL, next_poke_at = NULL, last_error = NULL, follow_task_ids = NULL,
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

  /** latestScheduledLogicalDate of several DAGs in one statement (DAGs without a scheduled run are absent). */
  async latestScheduledLogicalDates(db: Queryable, dagIds: string[]): Promise<Map<string, Date>> {
    const { rows } = await db.query<{ dag_id: string; d: Date }>({
      name: 'weft_latest_scheduled_dates',
      text: `SELECT d.dag_id, m.d FROM unnest($1::text[]) AS d(dag_id)
       CROSS JOIN LATERAL (SELECT max(logical_date) AS d FROM dag_runs WHERE dag_id = d.dag_id AND run_type = 'scheduled') m
       WHERE m.d IS NOT NULL`,
      values: [dagIds],
    });
    return new Map(rows.map((r) => [r.dag_id, r.d]));
  }

  /** The run's task states, per task (one per instance: a mapped task has one per map index). */
  async taskStates(db: Queryable, dagRunId: number): Promise<Map<string, TaskState[]>> {
    const { rows } = await db.query<{ task_id: string; state: TaskState }>({
      name: 'weft_task_states',
      text: `SELECT task_id, state FROM task_instances WHERE dag_run_id = $1`,
      values: [dagRunId],
    });
    return statesByTask(rows);
  }

  /**
   * The task states of several runs that have any instance out of `none` (a run that never started has none: it is
   * absent), for starting runs: every instance of such a run, per task.
   */
  async startedTaskStates(db: Queryable, dagRunIds: number[]): Promise<Map<number, Map<string, TaskState[]>>> {
    const { rows } = await db.query<{ dag_run_id: number; task_id: string; state: TaskState }>({
      name: 'weft_started_task_states',
      text: `SELECT dag_run_id, task_id, state FROM task_instances WHERE dag_run_id IN (
         SELECT DISTINCT dag_run_id FROM task_instances WHERE dag_run_id = ANY($1::int[]) AND state <> 'none')`,
      values: [dagRunIds],
    });
    const byRun = new Map<number, { task_id: string; state: TaskState }[]>();
    for (const r of rows) {
      let list = byRun.get(r.dag_run_id);
      if (!list) byRun.set(r.dag_run_id, (list = []));
      list.push(r);
    }
    return new Map([...byRun].map(([runId, list]) => [runId, statesByTask(list)]));
  }

  /**
   * Writes an evaluation in one statement: task instances of one or more runs leave `none` (queued, scheduled for
   * sensors, or finished without an attempt: upstream_failed, skipped), runs change state (guarded by their
   * current state), and waiting workers are told how many tasks each queue received (NOTIFY on commit). For a
   * queue with a request waiting in this process, the NOTIFY is left to the end of the transaction, which first
   * hands the tasks to that request (`queued`: the transaction's LeaseHandOff).
   * Both kinds of change were checked against the transition tables by the caller, which holds the run locks.
   * (`state::text`: the guard must not be an index condition; with statistics that think `none` is rare, the
   * planner would otherwise scan every task instance in `none` instead of finding each row by (run, task).)
   */
  async applyEvaluation(
    db: Queryable,
    changes: { dagRunId: number; taskId: string; to: 'queued' | 'scheduled' | 'upstream_failed' | 'skipped' }[],
    runStates: { id: number; from: RunState; to: RunState }[],
    now: Date,
    queued: QueuedTasksSink,
  ): Promise<void> {
    if (!changes.length && !runStates.length) return;
    const defer = queued.queuesToDefer();
    const { rows } = await db.query<QueuedRow>({
      name: 'weft_apply_evaluation',
      text: `WITH changed AS (
         UPDATE task_instances ti SET ${LEAVE_NONE_SET}
         FROM unnest($1::int[], $2::text[], $3::text[]) AS c(run_id, task_id, to_state)
         WHERE ti.dag_run_id = c.run_id AND ti.task_id = c.task_id AND ti.state::text = 'none'
         RETURNING ti.id, ti.queue, ti.state),
       runs AS (
         UPDATE dag_runs r SET state = x.to_state::"RunState", updated_at = $4,
           start_date = CASE WHEN x.to_state = 'running' THEN coalesce(r.start_date, $4) ELSE r.start_date END,
           end_date = CASE WHEN x.to_state IN ('success', 'failed') THEN $4 ELSE NULL END
         FROM unnest($5::int[], $6::text[], $7::text[]) AS x(id, from_state, to_state)
         WHERE r.id = x.id AND r.state = x.from_state::"RunState"),
       ${announceQueued("changed WHERE state = 'queued'", 8, 9)}`,
      values: [
        changes.map((c) => c.dagRunId), changes.map((c) => c.taskId), changes.map((c) => c.to), now,
        runStates.map((r) => r.id), runStates.map((r) => r.from), runStates.map((r) => r.to), QUEUED_CHANNEL, defer,
      ],
    });
    queued.note(rows);
  }

  /**
   * Expands a mapped task of a run into one queued instance per element of `values` (map index 0…n−1, each with
   * its `expand` values), in one statement whatever n: the unexpanded placeholder (map index −1, in `none`) goes;
   * instances left in `none` (or `removed`) by a clear are re-queued with their new values, and those beyond n are
   * removed. The queued instances are announced as applyEvaluation announces its own (NOTIFY per queue, or the
   * hand-off).
   * A task's instances are 0…k−1 without gaps (only the placeholder is ever deleted), so the elements up to the
   * highest existing map index update rows and the rest are a plain INSERT: no ON CONFLICT, whose speculative
   * insertion cost ~10 % of the statement's time at 1,000 instances (docs/performance.md). The caller holds the
   * run's lock, so no other transaction adds instances meanwhile.
   */
  async expandTaskInstances(
    db: Queryable,
    dagRunId: number,
    task: TaskSettings,
    values: readonly Record<string, unknown>[],
    now: Date,
    queued: QueuedTasksSink,
  ): Promise<void> {
    const defer = queued.queuesToDefer();
    const { rows } = await db.query<QueuedRow>({
      name: 'weft_expand_task_instances',
      text: `WITH elements AS (
         SELECT v.ord - 1 AS map_index, v.value FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS v(value, ord)),
       known AS (SELECT coalesce(max(map_index), -1) AS top FROM task_instances WHERE dag_run_id = $1 AND task_id = $2),
       placeholder AS (
         DELETE FROM task_instances WHERE dag_run_id = $1 AND task_id = $2 AND map_index = -1 AND state::text = 'none'),
       requeued AS (
         UPDATE task_instances t SET state = 'queued', expand_values = e.value, scheduled_at = $12, queued_at = $12,
           updated_at = $12, end_date = NULL, last_error = NULL
         FROM elements e
         WHERE t.dag_run_id = $1 AND t.task_id = $2 AND t.map_index = e.map_index AND t.state::text IN ('none', 'removed')
         RETURNING t.id, t.queue),
       inserted AS (
         INSERT INTO task_instances (dag_run_id, dag_id, run_id, task_id, map_index, expand_values, state, task_type, queue,
           pool, pool_slots, priority_weight, max_tries, execution_timeout_sec, sla_deadline, logical_date, scheduled_at,
           queued_at, updated_at)
         SELECT r.id, r.dag_id, r.run_id, $2, e.map_index, e.value, 'queued', $4, $5, $6, $7, $8, $9, $10,
           r.data_interval_end + make_interval(secs => $11), r.logical_date, $12, $12, $12
         FROM dag_runs r CROSS JOIN elements e
         WHERE r.id = $1 AND e.map_index > (SELECT top FROM known)
         RETURNING id, queue),
       removed AS (
         UPDATE task_instances SET state = 'removed', updated_at = $12
         WHERE dag_run_id = $1 AND task_id = $2 AND map_index >= jsonb_array_length($3::jsonb) AND state::text = 'none'),
       ${announceQueued('(SELECT id, queue FROM requeued UNION ALL SELECT id, queue FROM inserted) AS expanded', 13, 14)}`,
      values: [
        dagRunId, task.taskId, JSON.stringify(values), task.taskType, task.queue, task.pool, task.poolSlots, task.priorityWeight,
        task.retries + 1, task.executionTimeoutSec === null ? null : Math.ceil(task.executionTimeoutSec), task.slaSec, now,
        QUEUED_CHANNEL, defer,
      ],
    });
    queued.note(rows);
  }

  /**
   * A mapped task that does not expand into instances: its placeholder (map index −1) takes `to` (skipped for an empty
   * list, failed with `error` otherwise), created again if an earlier expansion removed it; instances left in
   * `none` by a clear are removed.
   */
  async endUnexpandedTask(
    db: Queryable,
    dagRunId: number,
    task: TaskSettings,
    to: 'skipped' | 'failed',
    error: string | null,
    now: Date,
  ): Promise<EndedWithoutAttempt | null> {
    const { rows } = await db.query<EndedWithoutAttempt>({
      name: 'weft_end_unexpanded_task',
      text: `WITH placeholder AS (
         INSERT INTO task_instances (dag_run_id, dag_id, run_id, task_id, map_index, state, task_type, queue, pool,
           pool_slots, priority_weight, max_tries, execution_timeout_sec, sla_deadline, logical_date, end_date, last_error, updated_at)
         SELECT r.id, r.dag_id, r.run_id, $2, -1, $3::"TaskState", $4, $5, $6, $7, $8, $9, $10,
           r.data_interval_end + make_interval(secs => $11), r.logical_date, $12, $13, $12
         FROM dag_runs r WHERE r.id = $1
         ON CONFLICT (dag_run_id, task_id, map_index) DO UPDATE SET state = EXCLUDED.state, end_date = EXCLUDED.end_date,
           last_error = EXCLUDED.last_error, updated_at = EXCLUDED.updated_at
           WHERE task_instances.state::text = 'none'
         RETURNING id, map_index, try_number, max_tries),
       removed AS (
         UPDATE task_instances SET state = 'removed', updated_at = $12
         WHERE dag_run_id = $1 AND task_id = $2 AND map_index >= 0 AND state::text = 'none')
       SELECT id, map_index AS "mapIndex", try_number AS "tryNumber", max_tries AS "maxTries" FROM placeholder`,
      values: [
        dagRunId, task.taskId, to, task.taskType, task.queue, task.pool, task.poolSlots, task.priorityWeight, task.retries + 1,
        task.executionTimeoutSec === null ? null : Math.ceil(task.executionTimeoutSec), task.slaSec, now, error,
      ],
    });
    return rows[0] ?? null;
  }

  /**
   * The XCom rows of a run's tasks (all keys, or `keys`) for a pull (shapePulledXcom): every instance's except those
   * `removed` (surplus instances of a re-expansion over a shorter list keep the XCom of their earlier tries), and only
   * what each instance's current try published (Airflow clears a task instance's XCom when a new try starts).
   */
  async pulledXcomRows(db: Queryable, dagRunId: number, taskIds: string[], keys: string[] | null = null): Promise<XcomRow[]> {
    if (!taskIds.length) return [];
    const { rows } = await db.query<XcomRow>({
      name: 'weft_pulled_xcom_rows',
      text: `SELECT ti.task_id AS "taskId", x.key, ti.map_index AS "mapIndex", x.value
       FROM task_instances ti JOIN xcom x ON x.task_instance_id = ti.id AND x.try_number = ti.try_number
       WHERE ti.dag_run_id = $1 AND ti.task_id = ANY($2::text[]) AND ti.state::text <> 'removed'
         AND ($3::text[] IS NULL OR x.key = ANY($3::text[]))
       ORDER BY ti.map_index`,
      values: [dagRunId, taskIds, keys],
    });
    return rows;
  }

  /** What a branch or short-circuit task decided, recorded with its success (read back by followDecisions). */
  async setFollowTaskIds(db: Queryable, id: number, follow: string[]): Promise<void> {
    await db.query('UPDATE task_instances SET follow_task_ids = $2::jsonb WHERE id = $1', [id, JSON.stringify(follow)]);
  }

  /** The decisions of a run's branch and short-circuit tasks, by task id (tasks without one are absent). */
  async followDecisions(db: Queryable, dagRunId: number): Promise<Map<string, string[]>> {
    const { rows } = await db.query<{ task_id: string; follow: string[] }>({
      name: 'weft_follow_decisions',
      text: 'SELECT task_id, follow_task_ids AS follow FROM task_instances WHERE dag_run_id = $1 AND follow_task_ids IS NOT NULL',
      values: [dagRunId],
    });
    return new Map(rows.map((r) => [r.task_id, r.follow]));
  }

  /**
   * A task the engine decided without an attempt (a built-in branch): from `none` to success (with what it follows)
   * or failed (with the reason).
   */
  async decideInline(
    db: Queryable,
    dagRunId: number,
    taskId: string,
    to: 'success' | 'failed',
    follow: string[] | null,
    error: string | null,
    now: Date,
  ): Promise<EndedWithoutAttempt | null> {
    const { rows } = await db.query<EndedWithoutAttempt>({
      name: 'weft_decide_inline',
      text: `UPDATE task_instances SET state = $3::"TaskState", follow_task_ids = $4::jsonb, last_error = $5, start_date = $6,
         end_date = $6, updated_at = $6
       WHERE dag_run_id = $1 AND task_id = $2 AND state::text = 'none'
       RETURNING id, map_index AS "mapIndex", try_number AS "tryNumber", max_tries AS "maxTries"`,
      values: [dagRunId, taskId, to, follow === null ? null : JSON.stringify(follow), error, now],
    });
    return rows[0] ?? null;
  }

  async lockTaskInstance(db: Queryable, id: number): Promise<TaskInstanceRow | null> {
    const { rows } = await db.query<TaskInstanceRow>(`SELECT ${TI_COLUMNS} FROM task_instances WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] ?? null;
  }

  /**
   * Locks a live attempt by its lease id without its run: the task instance, then the lease, both SKIP LOCKED (a
   * completion or an operator holding either wins; the caller comes back to it). Enough for changes that move a task
   * instance between unfinished states (an attempt going up for retry), which neither a completion's evaluation nor
   * the run's state depends on; anything that may finish a task takes the run lock first (lockAttempt). Null when the
   * lease is gone, cancelled, or locked.
   */
  async tryLockAttemptWithoutRun(
    db: Queryable,
    leaseId: string,
  ): Promise<{ ti: TaskInstanceRow; lease: { id: string; tryNumber: number; workerId: string; expiresAt: Date; deadlineAt: Date | null }; dagVersionId: number } | null> {
    const { rows } = await db.query<Record<string, unknown>>({
      name: 'weft_try_lock_attempt_without_run',
      text: `SELECT ${columns(TI_FIELDS, 'ti', 'ti.')}, l.id AS "l.id", l.try_number AS "l.tryNumber", l.worker_id AS "l.workerId",
         l.expires_at AS "l.expiresAt", l.deadline_at AS "l.deadlineAt", r.dag_version_id AS "dagVersionId"
       FROM leases l
       JOIN task_instances ti ON ti.id = l.task_instance_id
       JOIN dag_runs r ON r.id = ti.dag_run_id
       WHERE l.id = $1 AND NOT l.cancel_requested
       FOR UPDATE OF ti, l SKIP LOCKED`,
      values: [leaseId],
    });
    const row = rows[0];
    if (!row) return null;
    return {
      ti: unprefix<TaskInstanceRow>(row, 'ti.', TI_FIELDS),
      lease: {
        id: row['l.id'] as string,
        tryNumber: row['l.tryNumber'] as number,
        workerId: row['l.workerId'] as string,
        expiresAt: row['l.expiresAt'] as Date,
        deadlineAt: row['l.deadlineAt'] as Date | null,
      },
      dagVersionId: row['dagVersionId'] as number,
    };
  }

  /**
   * Cancels a lease whose attempt has just been ended without it (an execution timeout): it stays, counting in its
   * pool, until its worker reports (LeasesService) or it expires (the reaper), so that worker's heartbeats answer
   * cancelRequested meanwhile.
   */
  async cancelLease(db: Queryable, leaseId: string): Promise<void> {
    await db.query('UPDATE leases SET cancel_requested = true WHERE id = $1', [leaseId]);
  }

  /**
   * Locks a live attempt by its lease id for its completion: the run, then the task instance, then the lease (the
   * lock order everywhere; FOR UPDATE OF takes them in the order listed), in one statement. Null when the lease is
   * gone (finished or reaped) or cancelled (fenced).
   */
  async lockAttempt(db: Queryable, leaseId: string): Promise<LockedAttempt | null> {
    const { rows } = await db.query<Record<string, unknown>>({
      name: 'weft_lock_attempt',
      text: `SELECT ${columns(RUN_FIELDS, 'r', 'r.')}, ${columns(TI_FIELDS, 'ti', 'ti.')},
         l.id AS "l.id", l.try_number AS "l.tryNumber", l.worker_id AS "l.workerId", l.api_key_id AS "l.apiKeyId",
         w.queues AS "w.queues", w.task_types AS "w.taskTypes"
       FROM leases l
       JOIN task_instances ti ON ti.id = l.task_instance_id
       JOIN dag_runs r ON r.id = ti.dag_run_id
       LEFT JOIN workers w ON w.id = l.worker_id
       WHERE l.id = $1 AND NOT l.cancel_requested
       FOR UPDATE OF r, ti, l`,
      values: [leaseId],
    });
    const row = rows[0];
    if (!row) return null;
    return {
      run: unprefix<RunRow>(row, 'r.', RUN_FIELDS),
      ti: unprefix<TaskInstanceRow>(row, 'ti.', TI_FIELDS),
      lease: { id: row['l.id'] as string, tryNumber: row['l.tryNumber'] as number, workerId: row['l.workerId'] as string, apiKeyId: row['l.apiKeyId'] as string | null },
      worker: row['w.queues'] ? { queues: row['w.queues'] as string[], taskTypes: row['w.taskTypes'] as string[] } : null,
    };
  }

  /**
   * Records the end of the current attempt (weft_end_attempt, prisma/sql/functions/weft_end_attempt.sql): the task instance and its
   * try row, and with `lease` the end of that lease (its completion hash kept on the try; SLOT_FREED when its pool
   * or DAG was near its limit with work queued behind it). With `readStates`, the same statement returns the run's
   * task states as they were before this write (the caller holds the run lock, so they are current; the finished
   * task's own entry is the caller's to set).
   */
  async finishAttempt(
    db: Queryable,
    ti: TaskInstanceRow,
    to: TaskState,
    now: Date,
    opts: { error: string | null; nextRetryAt: Date | null; lease: { id: string; completionHash: string | null } | null; readStates: boolean },
  ): Promise<Map<string, TaskState[]> | null> {
    const { rows } = await db.query<{ task_id: string | null; state: TaskState | null }>({
      name: 'weft_end_attempt',
      text: `SELECT NULL AS task_id, NULL AS state FROM weft_end_attempt($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       UNION ALL
       SELECT task_id, state FROM task_instances WHERE dag_run_id = $11 AND $12`,
      values: [
        ti.id, ti.tryNumber, to, now, opts.error, opts.nextRetryAt, opts.lease?.id ?? null, opts.lease?.completionHash ?? null,
        QUEUED_CHANNEL, SLOT_FREED, ti.dagRunId, opts.readStates,
      ],
    });
    if (!opts.readStates) return null;
    return statesByTask(rows.filter((r): r is { task_id: string; state: TaskState } => r.task_id !== null));
  }

  /**
   * Completions that need no evaluation (`to` is success of a task nothing depends on, or up_for_retry), one or a
   * group-commit batch of them, set-based (weft_finish_quietly_many, where the outcomes are explained): ONE
   * statement outside any transaction, so one commit for the batch, and inside it one UPDATE of task_instances (one
   * run of its events trigger), one UPDATE of the tries and one DELETE of the leases for all items. Each item gets
   * its own outcome, as from its own call: a stale or foreign lease is that item's answer and the others still
   * finish; a lease that appears twice is decided by its first appearance. The function locks the items' runs in run
   * order, so two batches (two replicas) take their run locks in the same order. A batch that fails as a whole (a
   * deadlock, anything) committed nothing, and the caller runs its items one by one.
   */
  async finishQuietlyMany(
    db: Queryable,
    items: { leaseId: string; callerKeyId: string | null; tryNumber: number; to: 'success' | 'up_for_retry'; now: Date; error: string | null; nextRetryAt: Date | null; completionHash: string }[],
  ): Promise<QuietFinish[]> {
    const { rows } = await db.query<QuietFinishRow & { ord: string }>({
      name: 'weft_finish_quietly_many',
      text: `SELECT ord, outcome, run_state AS "runState", dag_id AS "dagId", start_date AS "startDate", worker_id AS "workerId",
         worker_queues AS queues, worker_task_types AS "taskTypes"
       FROM weft_finish_quietly_many($1::uuid[], $2::uuid[], $3::int[], $4::"TaskState"[], $5::timestamptz[], $6::text[],
         $7::timestamptz[], $8::text[], $9, $10, $11)`,
      values: [
        items.map((a) => a.leaseId),
        items.map((a) => a.callerKeyId),
        items.map((a) => a.tryNumber),
        items.map((a) => a.to),
        items.map((a) => a.now),
        items.map((a) => a.error),
        items.map((a) => a.nextRetryAt),
        items.map((a) => a.completionHash),
        [...UNFINISHED_TASK_STATES],
        QUEUED_CHANNEL,
        SLOT_FREED,
      ],
    });
    if (rows.length !== items.length) throw new Error(`weft_finish_quietly_many: ${rows.length} results for ${items.length} completions`);
    const out: QuietFinish[] = new Array(items.length);
    for (const r of rows) out[Number(r.ord) - 1] = quietFinish(r);
    return out;
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
  async requeueDueRetries(db: Queryable, now: Date, limit: number, queued: QueuedTasksSink): Promise<number> {
    const defer = queued.queuesToDefer();
    const { rows } = await db.query<QueuedRow>({
      name: 'weft_requeue_due_retries',
      text: `WITH requeued AS (
         UPDATE task_instances SET state = 'queued', queued_at = $1, updated_at = $1, next_retry_at = NULL
         WHERE id IN (
           SELECT id FROM task_instances WHERE state = 'up_for_retry' AND next_retry_at <= $1
           ORDER BY next_retry_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING id, queue),
       ${announceQueued('requeued', 3, 4)}`,
      values: [now, limit, QUEUED_CHANNEL, defer],
    });
    queued.note(rows);
    return rows.reduce((n, r) => n + r.ids.length, 0);
  }

  /** Several version documents in one statement (those that exist). */
  async loadVersionDocuments(db: Queryable, versionIds: number[]): Promise<Map<number, DagDocument>> {
    const { rows } = await db.query<{ id: number; document: DagDocument }>(`SELECT id, document FROM dag_versions WHERE id = ANY($1::int[])`, [versionIds]);
    return new Map(rows.map((r) => [r.id, r.document]));
  }

  async loadVersionDocument(db: Queryable, versionId: number): Promise<DagDocument> {
    const doc = (await this.loadVersionDocuments(db, [versionId])).get(versionId);
    if (!doc) throw new Error(`dag version ${versionId} not found`);
    return doc;
  }

  // ---- reads for the API ----

  async listRuns(f: RunFilter): Promise<{ items: RunRow[]; total: number }> {
    // One fixed statement: an absent filter is a NULL parameter that matches everything.
    const where = `dag_id = $1 AND ($2::"RunState"[] IS NULL OR state = ANY($2::"RunState"[]))
      AND ($3::timestamptz IS NULL OR logical_date >= $3) AND ($4::timestamptz IS NULL OR logical_date <= $4)
      AND ($5::"RunType" IS NULL OR run_type = $5::"RunType")`;
    const params = [f.dagId, f.state?.length ? f.state : null, f.logicalDateGte ?? null, f.logicalDateLte ?? null, f.runType ?? null];
    const [items, total] = await Promise.all([
      this.pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM dag_runs WHERE ${where} ORDER BY logical_date DESC LIMIT $6 OFFSET $7`, [
        ...params,
        f.limit,
        f.offset,
      ]),
      this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM dag_runs WHERE ${where}`, params),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
  }

  /** The `limit` newest runs (by logical date) of each DAG, in one query (GraphQL's Dag.recentRuns batches on it). */
  async recentRunsOfDags(dagIds: string[], limit: number): Promise<RunRow[]> {
    const { rows } = await this.pool.query<RunRow>(
      `SELECT r.* FROM unnest($1::text[]) AS d(dag_id)
       CROSS JOIN LATERAL (SELECT ${RUN_COLUMNS} FROM dag_runs WHERE dag_id = d.dag_id ORDER BY logical_date DESC LIMIT $2) r`,
      [dagIds, limit],
    );
    return rows;
  }

  async taskInstances(dagRunId: number): Promise<TaskInstanceRow[]> {
    const { rows } = await this.pool.query<TaskInstanceRow>(
      `SELECT ${TI_COLUMNS} FROM task_instances WHERE dag_run_id = $1 ORDER BY id`,
      [dagRunId],
    );
    return rows;
  }

  /** Which of `pools` exist, and when a worker last asked for tasks of each of `queues` (queued tasks' reasons). */
  /** `recentSince`: workers seen since then count for the task types a queue's workers take (QueuedFacts). */
  async queuedFacts(pools: string[], queues: string[], recentSince: Date): Promise<QueuedFacts> {
    const [existing, polled] = await Promise.all([
      this.pool.query<{ name: string }>('SELECT name FROM pools WHERE name = ANY($1::text[])', [pools]),
      this.pool.query<{ queue: string; last: Date; any: boolean | null; types: string[] | null }>(
        `SELECT q AS queue, max(w.last_seen) AS last,
                bool_or(cardinality(w.task_types) = 0) FILTER (WHERE w.last_seen >= $2) AS any,
                (SELECT array_agg(DISTINCT t) FROM workers r, unnest(r.task_types) AS t WHERE q = ANY (r.queues) AND r.last_seen >= $2) AS types
           FROM workers w, unnest(w.queues) AS q WHERE q = ANY($1::text[]) GROUP BY q`,
        [queues, recentSince],
      ),
    ]);
    return {
      pools: new Set(existing.rows.map((r) => r.name)),
      lastPolled: new Map(polled.rows.map((r) => [r.queue, r.last])),
      recentTypes: new Map(polled.rows.filter((r) => r.any !== null).map((r) => [r.queue, { any: r.any!, types: new Set(r.types ?? []) }])),
    };
  }

  /** Task instances of several runs in one query (GraphQL batches nested run → taskInstances with it). */
  async taskInstancesOfRuns(dagRunIds: number[]): Promise<TaskInstanceRow[]> {
    const { rows } = await this.pool.query<TaskInstanceRow>(
      `SELECT ${TI_COLUMNS} FROM task_instances WHERE dag_run_id = ANY($1::int[]) ORDER BY dag_run_id, id`,
      [dagRunIds],
    );
    return rows;
  }

  /** One task instance by its key (run, task, map index: −1 for an unmapped task). */
  async taskInstance(dagRunId: number, taskId: string, mapIndex = -1): Promise<TaskInstanceRow | null> {
    const { rows } = await this.pool.query<TaskInstanceRow>(
      `SELECT ${TI_COLUMNS} FROM task_instances WHERE dag_run_id = $1 AND task_id = $2 AND map_index = $3`,
      [dagRunId, taskId, mapIndex],
    );
    return rows[0] ?? null;
  }

  /** How many mapped instances (map index ≥ 0) a task has in a run: for a clear 404 on a mapped task. */
  async mappedInstanceCount(dagRunId: number, taskId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM task_instances WHERE dag_run_id = $1 AND task_id = $2 AND map_index >= 0`,
      [dagRunId, taskId],
    );
    return rows[0]!.n;
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
    const lock = { name: 'weft_lock_dag', text: LOCK_DAG_SQL, values: [dagId] };
    const { rows } = await db.query<DagSchedulingRow>(lock);
    if (rows[0]) return rows[0];
    // Not found can also mean a registration gave the DAG a new version while this waited for the lock: the row was
    // locked, but its join with the version it read before waiting no longer held. Looking again, in a new snapshot
    // and holding the lock, finds the new version (or confirms there is no such DAG).
    return (await db.query<DagSchedulingRow>(lock)).rows[0] ?? null;
  }

  /** Like lockDag, but skips a DAG another scheduler is working on. */
  async tryLockDag(db: Queryable, dagId: string): Promise<DagSchedulingRow | null> {
    const { rows } = await db.query<DagSchedulingRow>({
      name: 'weft_try_lock_dag',
      text: `SELECT ${DAG_SCHEDULING_COLUMNS} FROM dags d
       JOIN dag_versions v ON v.dag_id = d.dag_id AND v.version = d.latest_version
       WHERE d.dag_id = $1 FOR UPDATE OF d SKIP LOCKED`,
      values: [dagId],
    });
    return rows[0] ?? null;
  }

  /**
   * Up to `limit` due DAGs (active, unpaused, next_dagrun_create_after reached), oldest due first, locked FOR UPDATE
   * SKIP LOCKED: schedulers running at once take different DAGs. `except`: DAGs the caller's tick already had.
   */
  async lockDueDags(db: Queryable, now: Date, limit: number, except: string[] = []): Promise<DagSchedulingRow[]> {
    const { rows } = await db.query<DagSchedulingRow>({
      name: 'weft_lock_due_dags',
      text: `SELECT ${DAG_SCHEDULING_COLUMNS} FROM dags d
       JOIN dag_versions v ON v.dag_id = d.dag_id AND v.version = d.latest_version
       WHERE d.is_active AND NOT d.is_paused AND d.next_dagrun_create_after <= $1 AND d.dag_id <> ALL ($3::text[])
       ORDER BY d.next_dagrun_create_after
       LIMIT $2 FOR UPDATE OF d SKIP LOCKED`,
      values: [now, limit, except],
    });
    return rows;
  }

  /** setNextDagrun for several DAGs in one statement. */
  async setNextDagruns(db: Queryable, next: Array<{ dagId: string; logicalDate: Date | null; createAfter: Date | null }>): Promise<void> {
    if (!next.length) return;
    await db.query({
      name: 'weft_set_next_dagruns',
      text: `UPDATE dags d SET next_dagrun_logical_date = n.logical_date, next_dagrun_create_after = n.create_after
       FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS n(dag_id, logical_date, create_after)
       WHERE d.dag_id = n.dag_id`,
      values: [next.map((n) => n.dagId), next.map((n) => n.logicalDate), next.map((n) => n.createAfter)],
    });
  }
}
