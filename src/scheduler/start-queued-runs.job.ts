import { Injectable } from '@nestjs/common';
import { EVERY_TICK, Periodic, type PeriodicJob } from '../common/periodic-job.js';
import { RunStarter } from '../engine/runs/run-starter.service.js';

/**
 * Starts queued runs wherever a DAG has room under maxActiveRuns (runs queued by triggers, or waiting for an
 * earlier run to finish). Each DAG under its row lock, skipping DAGs another scheduler holds.
 */
@Periodic()
@Injectable()
export class StartQueuedRunsJob implements PeriodicJob<number> {
  readonly name = 'start-queued-runs';
  readonly interval = EVERY_TICK;

  constructor(private readonly starter: RunStarter) {}

  run(now: Date): Promise<number> {
    return this.starter.startEveryDagsQueuedRuns(now);
  }
}
