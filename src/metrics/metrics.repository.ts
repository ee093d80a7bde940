import { Injectable } from '@nestjs/common';
import { Transactions } from '../database/transactions.js';

export type DatabaseGauges = {
  runs: { state: string; n: number }[];
  taskInstances: { state: string; n: number }[];
  queues: { queue: string; depth: number; oldestAgeSec: number }[];
  pools: { pool: string; slots: number; used: number }[];
};

/**
 * The scrape-time gauges: a handful of grouped counts, read when Prometheus scrapes (never per event). Each uses
 * an index (state-leading on runs and task instances); a statement timeout keeps a slow database from holding a
 * scrape open.
 */
@Injectable()
export class MetricsRepository {
  constructor(private readonly transactions: Transactions) {}

  read(now: Date): Promise<DatabaseGauges> {
    return this.transactions.run(async (db) => {
      await db.query(`SET LOCAL statement_timeout = 5000`);
      const runs = await db.query<{ state: string; n: number }>(`SELECT state::text AS state, count(*)::int AS n FROM dag_runs GROUP BY state`);
      const tis = await db.query<{ state: string; n: number }>(`SELECT state::text AS state, count(*)::int AS n FROM task_instances GROUP BY state`);
      const queues = await db.query<{ queue: string; depth: number; oldestAgeSec: number }>(
        `SELECT queue, count(*)::int AS depth,
           greatest(0, extract(epoch FROM ($1::timestamptz - min(queued_at))))::float8 AS "oldestAgeSec"
         FROM task_instances WHERE state = 'queued' GROUP BY queue`,
        [now],
      );
      const pools = await db.query<{ pool: string; slots: number; used: number }>(
        `SELECT p.name AS pool, p.slots, weft_pool_slots_used(p.name) AS used FROM pools p`,
      );
      return { runs: runs.rows, taskInstances: tis.rows, queues: queues.rows, pools: pools.rows };
    });
  }
}
