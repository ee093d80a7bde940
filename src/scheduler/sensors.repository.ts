import { Injectable } from '@nestjs/common';
import type { Queryable } from '../database/pg.js';
import type { DagDocument } from '../dags/domain/dag-document.schema.js';
import { intervalsBetween } from './domain/intervals-between.js';
import type { ExternalObservation } from './domain/external-task.js';

/** Reads and writes of scheduler-evaluated sensors (task instances waiting in `scheduled`). */
@Injectable()
export class SensorsRepository {
  async dueSensors(db: Queryable, now: Date, limit: number): Promise<{ id: number; dagRunId: number }[]> {
    const { rows } = await db.query(
      `SELECT id, dag_run_id AS "dagRunId" FROM task_instances
       WHERE state = 'scheduled' AND task_type = 'external_task' AND next_poke_at <= $1 ORDER BY next_poke_at LIMIT $2`,
      [now, limit],
    );
    return rows;
  }

  /**
   * The other DAG's runs whose logical date lies in [start, end) (exactly `start` when the window is empty, as
   * for a manual run), with the state of the run or of its task, and how many runs its schedule has there.
   */
  async externalStates(db: Queryable, dagId: string, taskId: string | null, window: { start: Date; end: Date }): Promise<ExternalObservation> {
    const empty = window.start.getTime() === window.end.getTime();
    const { rows } = await db.query<{ state: string }>(
      `SELECT CASE WHEN $4::text IS NULL THEN r.state::text ELSE coalesce(ti.state::text, 'none') END AS state
       FROM dag_runs r LEFT JOIN task_instances ti ON ti.dag_run_id = r.id AND ti.task_id = $4
       WHERE r.dag_id = $1 AND (CASE WHEN $5 THEN r.logical_date = $2 ELSE r.logical_date >= $2 AND r.logical_date < $3 END)`,
      [dagId, window.start, window.end, taskId, empty],
    );
    const { rows: docs } = await db.query<{ document: DagDocument }>(
      `SELECT v.document FROM dags d JOIN dag_versions v ON v.dag_id = d.dag_id AND v.version = d.latest_version WHERE d.dag_id = $1`,
      [dagId],
    );
    const doc = docs[0]?.document;
    let expectedRuns: number | null = null;
    if (doc && typeof doc.schedule === 'string' && !empty) {
      expectedRuns = intervalsBetween(doc.schedule, doc.timezone, window.start, new Date(window.end.getTime() - 1), 10_000).length;
    }
    return { states: rows.map((r) => r.state), expectedRuns };
  }

  async nextPoke(db: Queryable, id: number, at: Date): Promise<void> {
    await db.query('UPDATE task_instances SET next_poke_at = $2 WHERE id = $1', [id, at]);
  }

  async finish(db: Queryable, id: number, state: 'success' | 'failed', reason: string | undefined, now: Date): Promise<void> {
    await db.query(
      `UPDATE task_instances SET state = $2, start_date = coalesce(start_date, scheduled_at), end_date = $3, updated_at = $3,
         next_poke_at = NULL, last_error = $4 WHERE id = $1`,
      [id, state, now, reason ?? null],
    );
  }
}
