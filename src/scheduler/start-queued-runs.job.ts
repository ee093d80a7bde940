import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL } from '../database/pg.js';
import { RunsRepository } from '../engine/runs/runs.repository.js';
import { RunStarter } from '../engine/runs/run-starter.service.js';

/**
 * Starts queued runs wherever a DAG has room under maxActiveRuns (runs queued by triggers, or waiting for an
 * earlier run to finish). Each DAG under its row lock, skipping DAGs another scheduler holds.
 */
@Injectable()
export class StartQueuedRunsJob {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly runs: RunsRepository,
    private readonly starter: RunStarter,
  ) {}

  async run(now: Date): Promise<number> {
    let started = 0;
    for (const dagId of await this.runs.dagsWithQueuedRuns(this.pool, 1000)) {
      started += await this.starter.startQueuedRuns(dagId, now, { wait: false });
    }
    return started;
  }
}
