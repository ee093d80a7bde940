import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { EVERY_TICK, Periodic, type PeriodicJob } from '../common/periodic-job.js';
import { forEachLocked } from '../database/for-each-locked.js';
import { PG_POOL } from '../database/pg.js';
import { Transactions } from '../database/transactions.js';
import type { ExternalTask } from '../dags/domain/dag-document.schema.js';
import { RunEngine } from '../engine/runs/run-engine.service.js';
import { RunScheduling } from '../engine/runs/run-scheduling.service.js';
import { assertTaskTransition } from '../engine/runs/domain/task-state.js';
import { evaluateExternalTask } from './domain/external-task.js';
import { SensorsRepository } from './sensors.repository.js';

/**
 * Evaluates `external_task` sensors. They wait in `scheduled` (never `queued`), so they hold no worker and no
 * pool slot; each due poke reads the other DAG's runs for the matching data interval and either finishes the
 * sensor (success / failed, with downstream evaluation) or schedules the next poke.
 */
@Periodic()
@Injectable()
export class PokeSensorsJob implements PeriodicJob<number> {
  readonly name = 'poke-sensors';
  readonly interval = EVERY_TICK;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly transactions: Transactions,
    private readonly sensors: SensorsRepository,
    private readonly scheduling: RunScheduling,
    private readonly engine: RunEngine,
  ) {}

  async run(now: Date): Promise<number> {
    return forEachLocked(this.transactions, await this.sensors.dueSensors(this.pool, now, 500), async (db, due) => {
      const run = await this.scheduling.tryLockRun(db, due.dagRunId);
      const ti = run && (await this.scheduling.lockTaskInstance(db, due.id));
      if (!run || !ti || ti.state !== 'scheduled') return false;
      const { doc } = await this.engine.version(db, run.dagVersionId);
      const task = doc.tasks.find((t) => t.taskId === ti.taskId) as ExternalTask | undefined;
      if (!task) return false;
      const deltaMs = (task.executionDeltaSec ?? 0) * 1000;
      const window = { start: new Date(run.dataIntervalStart.getTime() - deltaMs), end: new Date(run.dataIntervalEnd.getTime() - deltaMs) };
      const external = await this.sensors.externalStates(db, task.externalDagId, task.externalTaskId, window);
      const verdict = evaluateExternalTask(task, external, { scheduledAt: ti.scheduledAt ?? now, now });
      if (verdict.state === 'waiting') {
        await this.sensors.nextPoke(db, ti.id, new Date(now.getTime() + task.pokeIntervalSec * 1000));
        return false;
      }
      assertTaskTransition('scheduled', verdict.state);
      await this.sensors.finish(db, ti.id, verdict.state, verdict.reason, now);
      await this.engine.evaluate(db, run, [ti.taskId], now);
      return true;
    });
  }
}
