import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../../database/pg.js';
import type { LogLine, WorkerLeaseView, WorkerView, XcomEntry } from './domain/task-data.js';

/** Reads of what attempts produce (XCom, logs) and of the workers seen. */
@Injectable()
export class TaskDataRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async taskInstanceId(dagId: string, runId: string, taskId: string, mapIndex = -1): Promise<number | null> {
    const { rows } = await this.pool.query<{ id: number }>(
      'SELECT id FROM task_instances WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 AND map_index = $4',
      [dagId, runId, taskId, mapIndex],
    );
    return rows[0]?.id ?? null;
  }

  /**
   * A task instance's XCom: only its current try's, as Airflow clears a task instance's XCom when a new try starts (a
   * retry, or a run after a clear, that does not publish a key must not leave the earlier try's value visible).
   */
  async xcoms(taskInstanceId: number): Promise<XcomEntry[]> {
    const { rows } = await this.pool.query<XcomEntry>(
      `SELECT x.key, x.value, x.try_number AS "tryNumber", x.created_at AS "createdAt"
       FROM xcom x JOIN task_instances ti ON ti.id = x.task_instance_id AND x.try_number = ti.try_number
       WHERE x.task_instance_id = $1 ORDER BY x.key`,
      [taskInstanceId],
    );
    return rows;
  }

  /** XCom entries of several task instances in one query, by task instance id. */
  async xcomsOfTaskInstances(taskInstanceIds: number[]): Promise<Map<number, XcomEntry[]>> {
    const { rows } = await this.pool.query<XcomEntry & { taskInstanceId: number }>(
      `SELECT x.task_instance_id AS "taskInstanceId", x.key, x.value, x.try_number AS "tryNumber", x.created_at AS "createdAt"
       FROM xcom x JOIN task_instances ti ON ti.id = x.task_instance_id AND x.try_number = ti.try_number
       WHERE x.task_instance_id = ANY($1::int[]) ORDER BY x.task_instance_id, x.key`,
      [taskInstanceIds],
    );
    const byTi = new Map<number, XcomEntry[]>(taskInstanceIds.map((id) => [id, []]));
    for (const { taskInstanceId, ...entry } of rows) byTi.get(taskInstanceId)?.push(entry);
    return byTi;
  }

  /** An operator's value: recorded against the task instance's current try. */
  async setXcom(db: Queryable, taskInstanceId: number, key: string, value: unknown): Promise<XcomEntry> {
    const { rows } = await db.query<XcomEntry>(
      `INSERT INTO xcom (task_instance_id, dag_id, run_id, task_id, try_number, key, value)
       SELECT id, dag_id, run_id, task_id, try_number, $2, $3::jsonb FROM task_instances WHERE id = $1
       ON CONFLICT (task_instance_id, key) DO UPDATE SET value = EXCLUDED.value, try_number = EXCLUDED.try_number, created_at = now()
       RETURNING key, value, try_number AS "tryNumber", created_at AS "createdAt"`,
      [taskInstanceId, key, JSON.stringify(value)],
    );
    return rows[0]!;
  }

  async logs(taskInstanceId: number, tryNumber: number | undefined, limit: number, offset: number): Promise<{ items: LogLine[]; total: number }> {
    const params = [taskInstanceId, tryNumber ?? null];
    const cond = 'task_instance_id = $1 AND ($2::int IS NULL OR try_number = $2)';
    const [items, total] = await Promise.all([
      this.pool.query<LogLine>(
        `SELECT try_number AS "tryNumber", line, stream, at FROM task_logs WHERE ${cond} ORDER BY id LIMIT $3 OFFSET $4`,
        [...params, limit, offset],
      ),
      this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM task_logs WHERE ${cond}`, params),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
  }

  async workers(limit: number, offset: number): Promise<{ items: WorkerView[]; total: number }> {
    const [items, total] = await Promise.all([
      this.pool.query<Omit<WorkerView, 'leases' | 'runningLeases'>>(
        `SELECT w.id AS "workerId", w.hostname, w.queues, w.task_types AS "taskTypes", w.capacity,
           w.first_seen AS "firstSeen", w.last_seen AS "lastSeen"
         FROM workers w ORDER BY w.last_seen DESC LIMIT $1 OFFSET $2`,
        [limit, offset],
      ),
      this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM workers'),
    ]);
    // The leases listed are all the worker holds, so their count is its running leases (one read of the leases,
    // which have no index on worker_id: migration lean_lease_and_event_indexes).
    const held = await this.leasesOfWorkers(items.rows.map((w) => w.workerId));
    return {
      items: items.rows.map((w) => {
        const leases = held.get(w.workerId) ?? [];
        return { ...w, runningLeases: leases.length, leases };
      }),
      total: total.rows[0]!.n,
    };
  }

  /** The leases the given workers hold now, by worker id, oldest first. */
  private async leasesOfWorkers(workerIds: string[]): Promise<Map<string, WorkerLeaseView[]>> {
    const byWorker = new Map<string, WorkerLeaseView[]>();
    if (!workerIds.length) return byWorker;
    const { rows } = await this.pool.query<WorkerLeaseView & { workerId: string }>(
      `SELECT l.worker_id AS "workerId", ti.dag_id AS "dagId", ti.run_id AS "runId", ti.task_id AS "taskId",
         ti.map_index AS "mapIndex", l.try_number AS "tryNumber", l.queue, l.acquired_at AS "acquiredAt", l.heartbeat_at AS "heartbeatAt",
         l.expires_at AS "expiresAt", l.deadline_at AS "deadlineAt", l.cancel_requested AS "cancelRequested"
       FROM leases l JOIN task_instances ti ON ti.id = l.task_instance_id
       WHERE l.worker_id = ANY($1::text[]) ORDER BY l.acquired_at, ti.dag_id, ti.run_id, ti.task_id, ti.map_index`,
      [workerIds],
    );
    for (const { workerId, ...lease } of rows) {
      const list = byWorker.get(workerId);
      if (list) list.push(lease);
      else byWorker.set(workerId, [lease]);
    }
    return byWorker;
  }
}
