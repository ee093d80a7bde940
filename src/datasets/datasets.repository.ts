import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../database/pg.js';

export type DatasetEventRow = {
  id: number;
  uri: string;
  sourceDagId: string | null;
  sourceRunId: string | null;
  sourceTaskId: string | null;
  sourceTryNumber: number | null;
  extra: Record<string, unknown>;
  timestamp: Date;
};

export type DatasetView = {
  uri: string;
  extra: Record<string, unknown>;
  createdAt: Date;
  producers: { dagId: string; taskId: string }[];
  consumers: string[];
  lastEventAt: Date | null;
};

/** datasets, their events, producers, consumers and the queue of updates not yet consumed by a DAG. */
@Injectable()
export class DatasetsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /**
   * Records an update of each dataset (creating unknown ones) and queues it for every DAG scheduled on it; the
   * queue keeps the first unconsumed update per (dataset, DAG). Runs in the caller's transaction, so an event
   * exists exactly when the task's success (or the API call) commits.
   */
  async recordEvents(
    db: Queryable,
    uris: string[],
    source: { dagId?: string; runId?: string; taskId?: string; tryNumber?: number },
    extra: Record<string, unknown>,
    now: Date,
  ): Promise<DatasetEventRow[]> {
    if (!uris.length) return [];
    await db.query(`INSERT INTO datasets (uri) SELECT unnest($1::text[]) ON CONFLICT (uri) DO NOTHING`, [uris]);
    const { rows } = await db.query<DatasetEventRow & { datasetId: number }>(
      `WITH ins AS (
         INSERT INTO dataset_events (dataset_id, source_dag_id, source_run_id, source_task_id, source_try_number, extra, timestamp)
         SELECT d.id, $2, $3, $4, $5, $6, $7 FROM datasets d WHERE d.uri = ANY($1::text[])
         RETURNING *)
       SELECT ins.id, ins.dataset_id AS "datasetId", d.uri, ins.source_dag_id AS "sourceDagId", ins.source_run_id AS "sourceRunId",
         ins.source_task_id AS "sourceTaskId", ins.source_try_number AS "sourceTryNumber", ins.extra, ins.timestamp
       FROM ins JOIN datasets d ON d.id = ins.dataset_id ORDER BY ins.id`,
      [uris, source.dagId ?? null, source.runId ?? null, source.taskId ?? null, source.tryNumber ?? null, JSON.stringify(extra), now],
    );
    await db.query(
      `INSERT INTO dataset_dag_run_queue (dataset_id, target_dag_id, created_at)
       SELECT c.dataset_id, c.dag_id, $2 FROM dataset_consumers c WHERE c.dataset_id = ANY($1::int[])
       ON CONFLICT DO NOTHING`,
      [rows.map((r) => r.datasetId), now],
    );
    return rows.map(({ datasetId: _, ...r }) => r);
  }

  /** Replaces a DAG's dataset references (its tasks' outlets and its dataset schedule). */
  async syncReferences(db: Queryable, dagId: string, outlets: { taskId: string; uri: string }[], consumes: string[]): Promise<void> {
    const uris = [...new Set([...outlets.map((o) => o.uri), ...consumes])];
    if (uris.length) await db.query(`INSERT INTO datasets (uri) SELECT unnest($1::text[]) ON CONFLICT (uri) DO NOTHING`, [uris]);
    await db.query('DELETE FROM dataset_producers WHERE dag_id = $1', [dagId]);
    await db.query('DELETE FROM dataset_consumers WHERE dag_id = $1', [dagId]);
    await db.query(`DELETE FROM dataset_dag_run_queue q WHERE q.target_dag_id = $1 AND q.dataset_id NOT IN (
      SELECT id FROM datasets WHERE uri = ANY($2::text[]))`, [dagId, consumes]);
    if (outlets.length) {
      await db.query(
        `INSERT INTO dataset_producers (dag_id, task_id, dataset_id)
         SELECT $1, o.task_id, d.id FROM unnest($2::text[], $3::text[]) AS o(task_id, uri) JOIN datasets d ON d.uri = o.uri
         ON CONFLICT DO NOTHING`,
        [dagId, outlets.map((o) => o.taskId), outlets.map((o) => o.uri)],
      );
    }
    if (consumes.length) {
      await db.query(
        `INSERT INTO dataset_consumers (dag_id, dataset_id) SELECT $1, id FROM datasets WHERE uri = ANY($2::text[]) ON CONFLICT DO NOTHING`,
        [dagId, consumes],
      );
    }
  }

  async dagsWithQueuedUpdates(db: Queryable, limit: number): Promise<string[]> {
    const { rows } = await db.query<{ dag_id: string }>(`SELECT DISTINCT target_dag_id AS dag_id FROM dataset_dag_run_queue LIMIT $1`, [limit]);
    return rows.map((r) => r.dag_id);
  }

  /** The DAG's queued updates (locked: the caller consumes them when it creates the run). */
  async queuedUpdates(db: Queryable, dagId: string): Promise<{ uri: string; datasetId: number; since: Date }[]> {
    const { rows } = await db.query(
      `SELECT d.uri, q.dataset_id AS "datasetId", q.created_at AS since FROM dataset_dag_run_queue q JOIN datasets d ON d.id = q.dataset_id
       WHERE q.target_dag_id = $1 FOR UPDATE OF q`,
      [dagId],
    );
    return rows;
  }

  async consume(db: Queryable, dagId: string, datasetIds: number[]): Promise<void> {
    await db.query('DELETE FROM dataset_dag_run_queue WHERE target_dag_id = $1 AND dataset_id = ANY($2::int[])', [dagId, datasetIds]);
  }

  async eventsSince(db: Queryable, updates: { datasetId: number; since: Date }[]): Promise<DatasetEventRow[]> {
    const { rows } = await db.query<DatasetEventRow>(
      `SELECT e.id, d.uri, e.source_dag_id AS "sourceDagId", e.source_run_id AS "sourceRunId", e.source_task_id AS "sourceTaskId",
         e.source_try_number AS "sourceTryNumber", e.extra, e.timestamp
       FROM dataset_events e JOIN datasets d ON d.id = e.dataset_id
       JOIN unnest($1::int[], $2::timestamptz[]) AS u(dataset_id, since) ON u.dataset_id = e.dataset_id AND e.timestamp >= u.since
       ORDER BY e.id`,
      [updates.map((u) => u.datasetId), updates.map((u) => u.since)],
    );
    return rows;
  }

  async list(limit: number, offset: number): Promise<{ items: DatasetView[]; total: number }> {
    const [items, total] = await Promise.all([
      this.pool.query<DatasetView>(
        `SELECT d.uri, d.extra, d.created_at AS "createdAt",
           coalesce((SELECT json_agg(json_build_object('dagId', p.dag_id, 'taskId', p.task_id) ORDER BY p.dag_id, p.task_id)
                     FROM dataset_producers p WHERE p.dataset_id = d.id), '[]') AS producers,
           coalesce((SELECT json_agg(c.dag_id ORDER BY c.dag_id) FROM dataset_consumers c WHERE c.dataset_id = d.id), '[]') AS consumers,
           (SELECT max(timestamp) FROM dataset_events e WHERE e.dataset_id = d.id) AS "lastEventAt"
         FROM datasets d ORDER BY d.uri LIMIT $1 OFFSET $2`,
        [limit, offset],
      ),
      this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM datasets'),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
  }

  async events(f: { uri?: string; since?: Date; until?: Date; limit: number; offset: number }): Promise<{ items: DatasetEventRow[]; total: number }> {
    const cond = `($1::text IS NULL OR d.uri = $1) AND ($2::timestamptz IS NULL OR e.timestamp >= $2) AND ($3::timestamptz IS NULL OR e.timestamp <= $3)`;
    const params = [f.uri ?? null, f.since ?? null, f.until ?? null];
    const [items, total] = await Promise.all([
      this.pool.query<DatasetEventRow>(
        `SELECT e.id, d.uri, e.source_dag_id AS "sourceDagId", e.source_run_id AS "sourceRunId", e.source_task_id AS "sourceTaskId",
           e.source_try_number AS "sourceTryNumber", e.extra, e.timestamp
         FROM dataset_events e JOIN datasets d ON d.id = e.dataset_id WHERE ${cond} ORDER BY e.id DESC LIMIT $4 OFFSET $5`,
        [...params, f.limit, f.offset],
      ),
      this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM dataset_events e JOIN datasets d ON d.id = e.dataset_id WHERE ${cond}`, params),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
  }
}
