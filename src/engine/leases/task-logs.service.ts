import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { CONFIG, type Config } from '../../config/config.js';
import { PG_POOL } from '../../database/pg.js';
import { Transactions } from '../../database/transactions.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { LogCapTracker, logBytes, markerLine, TRIM_TO } from './domain/log-cap.js';
import { LeasesRepository } from './leases.repository.js';
import { TaskLogsRepository } from './task-logs.repository.js';

/**
 * Appends an attempt's log lines, keeping each try under WEFT_TASK_LOG_MAX_BYTES_PER_TRY: once in a while
 * (LogCapTracker) the try's size is measured and, when over, its oldest lines give way to a marker line.
 * A log that outgrows the cap costs old lines, never an error for the worker.
 */
@Injectable()
export class TaskLogsService {
  private readonly tracker: LogCapTracker;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly transactions: Transactions,
    @Inject(CONFIG) private readonly config: Config,
    private readonly leases: LeasesRepository,
    private readonly repo: TaskLogsRepository,
    private readonly metrics: MetricsService,
  ) {
    this.tracker = new LogCapTracker(config.taskLogMaxBytesPerTry);
  }

  async append(taskInstanceId: number, tryNumber: number, lines: { line: string; stream: string }[], now: Date): Promise<void> {
    const cap = this.config.taskLogMaxBytesPerTry;
    if (!cap || !this.tracker.add(`${taskInstanceId}:${tryNumber}`, logBytes(lines))) {
      await this.leases.appendLogs(this.pool, taskInstanceId, tryNumber, lines, now);
      return;
    }
    const dropped = await this.transactions.run(async (db) => {
      await this.leases.appendLogs(db, taskInstanceId, tryNumber, lines, now);
      await this.repo.lockTry(db, taskInstanceId);
      const size = await this.repo.storedBytes(db, taskInstanceId, tryNumber);
      if (size <= cap) return 0;
      const excess = size - Math.floor(cap * TRIM_TO);
      return (await this.repo.trimOldest(db, taskInstanceId, tryNumber, excess, (total) => markerLine(total, cap), now)).lines;
    });
    if (dropped) this.metrics.taskLogLinesDropped.inc(dropped);
  }
}
