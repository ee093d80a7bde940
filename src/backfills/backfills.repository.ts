import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../database/pg.js';
import type { RunState } from '../engine/runs/domain/run-state.js';
import type { PlannedDate } from './domain/plan-backfill.js';
import type { BackfillCounts, BackfillItem, BackfillRow } from './domain/backfill.js';

const COLUMNS = `id, dag_id AS "dagId", from_date AS "fromDate", to_date AS "toDate", max_active_runs AS "maxActiveRuns",
  reprocess_behavior AS "reprocessBehavior", run_backwards AS "runBackwards", conf, is_paused AS "isPaused",
  created_at AS "createdAt", completed_at AS "completedAt", canceled_at AS "canceledAt",
  clipped_intervals AS "clippedIntervals", clipped_cutoff AS "clippedCutoff",
  clipped_first_logical_date AS "clippedFirst", clipped_last_logical_date AS "clippedLast"`;

type BackfillDbRow = Omit<BackfillRow, 'clipped'> & {
  clippedIntervals: number;
  clippedCutoff: Date | null;
  clippedFirst: Date | null;
  clippedLast: Date | null;
};

function toBackfillRow({ clippedIntervals, clippedCutoff, clippedFirst, clippedLast, ...row }: BackfillDbRow): BackfillRow {
  const clipped =
    clippedIntervals > 0 && clippedCutoff && clippedFirst && clippedLast
      ? { intervals: clippedIntervals, cutoff: clippedCutoff, firstLogicalDate: clippedFirst, lastLogicalDate: clippedLast }
      : null;
  return { ...row, clipped };
}

/** backfills and backfill_runs. The backfill row lock serialises everything that starts its runs. */
@Injectable()
export class BackfillsRepository {
  constructor(@Inject(PG_POOL) readonly pool: pg.Pool) {}

  async insert(
    db: Queryable,
    b: Omit<BackfillRow, 'id' | 'isPaused' | 'createdAt' | 'completedAt' | 'canceledAt'>,
    plan: PlannedDate[],
    existingRunIds: Map<string, number>,
  ): Promise<number> {
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO backfills (dag_id, from_date, to_date, max_active_runs, reprocess_behavior, run_backwards, conf,
         clipped_intervals, clipped_cutoff, clipped_first_logical_date, clipped_last_logical_date)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
      [
        b.dagId, b.fromDate, b.toDate, b.maxActiveRuns, b.reprocessBehavior, b.runBackwards, JSON.stringify(b.conf),
        b.clipped?.intervals ?? 0, b.clipped?.cutoff ?? null, b.clipped?.firstLogicalDate ?? null, b.clipped?.lastLogicalDate ?? null,
      ],
    );
    const id = rows[0]!.id;
    await db.query(
      `INSERT INTO backfill_runs (backfill_id, sort_ordinal, logical_date, status, reprocess, dag_run_id, skip_reason)
       SELECT $1, ord, d, s, r, rid, reason
       FROM unnest($2::int[], $3::timestamptz[], $4::text[], $5::bool[], $6::int[], $7::text[]) AS x(ord, d, s, r, rid, reason)`,
      [
        id,
        plan.map((_, i) => i),
        plan.map((p) => p.logicalDate),
        plan.map((p) => (p.action === 'skip' ? 'skipped' : 'pending')),
        plan.map((p) => p.action === 'reprocess'),
        plan.map((p) => (p.action === 'reprocess' && p.existingRunId ? (existingRunIds.get(p.existingRunId) ?? null) : null)),
        plan.map((p) => p.skipReason ?? null),
      ],
    );
    return id;
  }

  /** Asked after every run of the DAG ends (EngineEvents.runsMayStart): a named statement, planned once per connection. */
  async activeForDag(db: Queryable, dagId: string): Promise<number[]> {
    const { rows } = await db.query<{ id: number }>({
      name: 'weft_active_backfills_of_dag',
      text: `SELECT id FROM backfills WHERE dag_id = $1 AND completed_at IS NULL AND canceled_at IS NULL`,
      values: [dagId],
    });
    return rows.map((r) => r.id);
  }

  async activeIds(db: Queryable, limit: number): Promise<number[]> {
    const { rows } = await db.query<{ id: number }>(
      `SELECT id FROM backfills WHERE completed_at IS NULL AND canceled_at IS NULL AND NOT is_paused ORDER BY id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  /** Locks an active, unpaused backfill, skipping it when another scheduler is driving it. */
  async tryLockActive(db: Queryable, id: number): Promise<BackfillRow | null> {
    const { rows } = await db.query<BackfillDbRow>(
      `SELECT ${COLUMNS} FROM backfills WHERE id = $1 AND completed_at IS NULL AND canceled_at IS NULL AND NOT is_paused
       FOR UPDATE SKIP LOCKED`,
      [id],
    );
    return rows[0] ? toBackfillRow(rows[0]) : null;
  }

  async lock(db: Queryable, id: number): Promise<BackfillRow | null> {
    const { rows } = await db.query<BackfillDbRow>(`SELECT ${COLUMNS} FROM backfills WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] ? toBackfillRow(rows[0]) : null;
  }

  async find(db: Queryable, id: number): Promise<BackfillRow | null> {
    const { rows } = await db.query<BackfillDbRow>(`SELECT ${COLUMNS} FROM backfills WHERE id = $1`, [id]);
    return rows[0] ? toBackfillRow(rows[0]) : null;
  }

  async countActiveRuns(db: Queryable, id: number): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM dag_runs WHERE backfill_id = $1 AND state IN ('queued', 'running')`,
      [id],
    );
    return rows[0]!.n;
  }

  async nextPending(db: Queryable, id: number, limit: number): Promise<BackfillItem[]> {
    const { rows } = await db.query<BackfillItem>(
      `SELECT sort_ordinal AS "sortOrdinal", logical_date AS "logicalDate", status, reprocess, dag_run_id AS "dagRunId",
         NULL AS "runId", NULL AS "runState", skip_reason AS "skipReason"
       FROM backfill_runs WHERE backfill_id = $1 AND status = 'pending' ORDER BY sort_ordinal LIMIT $2`,
      [id, limit],
    );
    return rows;
  }

  async markItem(db: Queryable, id: number, sortOrdinal: number, status: 'started' | 'skipped', dagRunId: number | null, skipReason: string | null): Promise<void> {
    await db.query(
      `UPDATE backfill_runs SET status = $3, dag_run_id = coalesce($4, dag_run_id), skip_reason = $5 WHERE backfill_id = $1 AND sort_ordinal = $2`,
      [id, sortOrdinal, status, dagRunId, skipReason],
    );
  }

  /** Several items at once (a drive that started many dates). */
  async markItems(db: Queryable, id: number, marks: { sortOrdinal: number; status: 'started' | 'skipped'; dagRunId: number | null; skipReason: string | null }[]): Promise<void> {
    if (!marks.length) return;
    await db.query(
      `UPDATE backfill_runs b SET status = m.status, dag_run_id = coalesce(m.run_id, b.dag_run_id), skip_reason = m.reason
       FROM unnest($2::int[], $3::text[], $4::int[], $5::text[]) AS m(ord, status, run_id, reason)
       WHERE b.backfill_id = $1 AND b.sort_ordinal = m.ord`,
      [id, marks.map((m) => m.sortOrdinal), marks.map((m) => m.status), marks.map((m) => m.dagRunId), marks.map((m) => m.skipReason)],
    );
  }

  async setRunBackfill(db: Queryable, dagRunId: number, backfillId: number): Promise<void> {
    await db.query('UPDATE dag_runs SET backfill_id = $2 WHERE id = $1', [dagRunId, backfillId]);
  }

  async complete(db: Queryable, id: number, now: Date): Promise<void> {
    await db.query('UPDATE backfills SET completed_at = $2 WHERE id = $1 AND completed_at IS NULL', [id, now]);
  }

  async setPaused(db: Queryable, id: number, isPaused: boolean): Promise<void> {
    await db.query('UPDATE backfills SET is_paused = $2 WHERE id = $1', [id, isPaused]);
  }

  async cancel(db: Queryable, id: number, now: Date): Promise<void> {
    await db.query(`UPDATE backfills SET canceled_at = $2 WHERE id = $1 AND canceled_at IS NULL AND completed_at IS NULL`, [id, now]);
    await db.query(`UPDATE backfill_runs SET status = 'skipped', skip_reason = 'backfill canceled' WHERE backfill_id = $1 AND status = 'pending'`, [id]);
  }

  async items(id: number): Promise<BackfillItem[]> {
    const { rows } = await this.pool.query<BackfillItem>(
      `SELECT b.sort_ordinal AS "sortOrdinal", b.logical_date AS "logicalDate", b.status, b.reprocess,
         b.dag_run_id AS "dagRunId", r.run_id AS "runId", r.state AS "runState", b.skip_reason AS "skipReason"
       FROM backfill_runs b LEFT JOIN dag_runs r ON r.id = b.dag_run_id
       WHERE b.backfill_id = $1 ORDER BY b.sort_ordinal`,
      [id],
    );
    return rows;
  }

  /** Items of several backfills in one query, by backfill id. */
  async itemsOfBackfills(ids: number[]): Promise<Map<number, BackfillItem[]>> {
    const { rows } = await this.pool.query<BackfillItem & { backfillId: number }>(
      `SELECT b.backfill_id AS "backfillId", b.sort_ordinal AS "sortOrdinal", b.logical_date AS "logicalDate", b.status,
         b.reprocess, b.dag_run_id AS "dagRunId", r.run_id AS "runId", r.state AS "runState", b.skip_reason AS "skipReason"
       FROM backfill_runs b LEFT JOIN dag_runs r ON r.id = b.dag_run_id
       WHERE b.backfill_id = ANY($1::int[]) ORDER BY b.backfill_id, b.sort_ordinal`,
      [ids],
    );
    const byBackfill = new Map<number, BackfillItem[]>(ids.map((id) => [id, []]));
    for (const { backfillId, ...item } of rows) byBackfill.get(backfillId)?.push(item);
    return byBackfill;
  }

  /**
   * Dates per status and run state of several backfills (weft_backfill_counts: the one definition, which the events
   * numberer's backfill_progress payloads also use).
   */
  async counts(ids: number[]): Promise<Map<number, BackfillCounts>> {
    const { rows } = await this.pool.query<BackfillCounts & { id: number }>(
      `SELECT b.id, c.pending, c.skipped, c.queued, c.running, c.success, c.failed
         FROM unnest($1::int[]) AS b(id) CROSS JOIN LATERAL weft_backfill_counts(b.id) c`,
      [ids],
    );
    return new Map(rows.map(({ id, ...counts }) => [id, counts]));
  }

  async list(f: { dagId?: string; limit: number; offset: number }): Promise<{ items: BackfillRow[]; total: number }> {
    const [items, total] = await Promise.all([
      this.pool.query<BackfillDbRow>(`SELECT ${COLUMNS} FROM backfills WHERE ($1::text IS NULL OR dag_id = $1) ORDER BY id DESC LIMIT $2 OFFSET $3`, [
        f.dagId ?? null,
        f.limit,
        f.offset,
      ]),
      this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM backfills WHERE ($1::text IS NULL OR dag_id = $1)', [f.dagId ?? null]),
    ]);
    return { items: items.rows.map(toBackfillRow), total: total.rows[0]!.n };
  }

  /** Runs that exist at the given logical dates (any type), for planning. */
  async existingRuns(db: Queryable, dagId: string, from: Date, to: Date): Promise<{ id: number; runId: string; state: RunState; logicalDate: Date }[]> {
    const { rows } = await db.query(
      `SELECT id, run_id AS "runId", state, logical_date AS "logicalDate" FROM dag_runs WHERE dag_id = $1 AND logical_date BETWEEN $2 AND $3`,
      [dagId, from, to],
    );
    return rows;
  }
}
