import { Inject, Injectable, Logger } from '@nestjs/common';
import pg from 'pg';
import { inTransaction, PG_POOL } from '../database/pg.js';
import { RunEngine } from '../runs/run-engine.service.js';
import { RunsRepository } from '../runs/runs.repository.js';
import { RunsService } from '../runs/runs.service.js';
import { LeasesRepository } from './leases.repository.js';
import { attemptFields } from '../logging/log-fields.js';

/**
 * Ends attempts whose lease expired (no heartbeat) or whose execution deadline passed, as failed attempts (the
 * retry policy applies). The run row is taken with SKIP LOCKED, so schedulers share the work; the lease is
 * re-checked under the lock, so a completion that won the race is left alone. Pool slots free up with the
 * lease row in the same transaction.
 */
@Injectable()
export class ReapExpiredLeasesJob {
  private readonly logger = new Logger('reaper');

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly leases: LeasesRepository,
    private readonly runs: RunsRepository,
    private readonly engine: RunEngine,
    private readonly runsService: RunsService,
  ) {}

  async run(now: Date): Promise<number> {
    let reaped = 0;
    const finishedDags = new Set<string>();
    for (const candidate of await this.leases.expiredLeases(this.pool, now, 500)) {
      const outcome = await inTransaction(this.pool, async (db) => {
        const run = await this.runs.tryLockRun(db, candidate.dagRunId);
        if (!run) return null;
        const lease = await this.leases.findLease(db, candidate.id, true);
        if (!lease) return null;
        const ti = await this.runs.lockTaskInstance(db, lease.taskInstanceId);
        const stillDue = lease.expiresAt <= now || (lease.deadlineAt !== null && lease.deadlineAt <= now);
        if (!ti || !stillDue || ti.state !== 'running' || ti.tryNumber !== lease.tryNumber) return null;
        const error =
          candidate.reason === 'timeout'
            ? `execution timeout: the attempt ran past its deadline ${lease.deadlineAt?.toISOString()}`
            : `lease expired at ${lease.expiresAt.toISOString()} without a heartbeat (worker ${lease.workerId})`;
        // The lease row ends in the same statement as the attempt (its pool slot frees with it).
        const result = await this.engine.finishAttempt(db, run, ti, { status: 'failed', error }, now, { id: lease.id, completionHash: null });
        this.logger.warn({ msg: `${ti.dagId}/${ti.runId}/${ti.taskId} try ${ti.tryNumber}: ${error} -> ${result.state}`, ...attemptFields(ti) });
        return { dagId: run.dagId, runFinished: result.runState !== run.state };
      });
      if (!outcome) continue;
      reaped++;
      if (outcome.runFinished) finishedDags.add(outcome.dagId);
    }
    for (const dagId of finishedDags) await this.runsService.startQueuedRuns(dagId, now);
    return reaped;
  }
}
