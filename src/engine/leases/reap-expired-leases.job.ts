import { Inject, Injectable, Logger } from '@nestjs/common';
import pg from 'pg';
import { EVERY_TICK, Periodic, type PeriodicJob } from '../../common/periodic-job.js';
import { forEachLocked } from '../../database/for-each-locked.js';
import { PG_POOL, pgErrorCode } from '../../database/pg.js';
import { Transactions } from '../../database/transactions.js';
import type { UnitOfWork } from '../../database/unit-of-work.js';
import { RunEngine } from '../runs/run-engine.service.js';
import { RunsRepository } from '../runs/runs.repository.js';
import { LeasesRepository } from './leases.repository.js';
import { attemptFields } from '../../logging/log-fields.js';
import { MetricsService } from '../../metrics/metrics.service.js';

/** Candidates per pass (the most overdue first). */
const BATCH = 500;

type Candidate = { id: string; dagRunId: number; reason: 'expired' | 'timeout' };

/**
 * Ends attempts whose lease expired (no heartbeat) or whose execution deadline passed, as failed attempts (the
 * retry policy applies); pool slots free up with the lease row in the same transaction.
 *
 * Its bound is the lease TTL plus one tick, also in a run whose completions keep its row locked: an attempt that
 * goes up for retry (the usual case) changes nothing its run's state or downstream tasks depend on, so it is ended
 * under the task instance's and the lease's locks alone, taken SKIP LOCKED (a completion of that very attempt that
 * holds them wins; schedulers share the work). Only an attempt that ends the task (no tries left) needs the run lock,
 * for the evaluation: that one waits its turn behind the completions (bounded by DATABASE_LOCK_TIMEOUT_SEC; past it,
 * the next tick tries again). Each is re-checked under its locks, so a completion or heartbeat that came first is
 * left alone.
 *
 * An execution timeout whose worker may still be running the task (its lease has not expired) cancels the lease
 * instead of removing it: the worker's next heartbeat answers cancelRequested. Cancelled leases whose worker never
 * reported are removed once they expire.
 */
@Periodic()
@Injectable()
export class ReapExpiredLeasesJob implements PeriodicJob<number> {
  readonly name = 'reap-expired-leases';
  readonly interval = EVERY_TICK;
  private readonly logger = new Logger('reaper');

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly transactions: Transactions,
    private readonly leases: LeasesRepository,
    private readonly runs: RunsRepository,
    private readonly engine: RunEngine,
    private readonly metrics: MetricsService,
  ) {}

  async run(now: Date): Promise<number> {
    await this.leases.dropExpiredCancelled(this.pool, now, BATCH);
    // First every candidate under its attempt's locks alone; then, each in a transaction of its own, those that end
    // their task under the run lock. A lock not granted within DATABASE_LOCK_TIMEOUT_SEC (a stalled holder) skips
    // that candidate: the next tick retries it.
    const lockTimeout = (err: unknown) => pgErrorCode(err) === '55P03';
    const needRunLock: Candidate[] = [];
    let reaped = await forEachLocked(
      this.transactions,
      await this.leases.expiredLeases(this.pool, now, BATCH),
      async (db, candidate) => {
        const outcome = await this.reapWithoutRunLock(db, candidate, now);
        if (outcome === 'needs_run_lock') needRunLock.push(candidate);
        return outcome === true;
      },
      lockTimeout,
    );
    reaped += await forEachLocked(this.transactions, needRunLock, (db, candidate) => this.reapUnderRunLock(db, candidate, now), lockTimeout);
    this.metrics.leasesExpired.inc(reaped);
    return reaped;
  }

  /** An attempt going up for retry, under its task instance's and lease's locks only. */
  private async reapWithoutRunLock(db: UnitOfWork, candidate: Candidate, now: Date): Promise<boolean | 'needs_run_lock'> {
    const attempt = await this.runs.tryLockAttemptWithoutRun(db, candidate.id);
    if (!attempt) return false;
    const { ti, lease, dagVersionId } = attempt;
    if (!isDue(lease, now) || ti.state !== 'running' || ti.tryNumber !== lease.tryNumber) return false;
    const error = reapError(candidate.reason, lease);
    const end = await this.engine.quietEnd(db, { dagVersionId, taskId: ti.taskId, tryNumber: ti.tryNumber, maxTries: ti.maxTries }, { status: 'failed', error }, now);
    if (end?.to !== 'up_for_retry') return 'needs_run_lock';
    const cancel = candidate.reason === 'timeout' && lease.expiresAt > now;
    await this.runs.finishAttempt(db, ti, end.to, now, { error, nextRetryAt: end.retryAt, lease: cancel ? null : { id: lease.id, completionHash: null }, readStates: false });
    if (cancel) await this.runs.cancelLease(db, lease.id);
    this.logger.warn({ msg: `${ti.dagId}/${ti.runId}/${ti.taskId} try ${ti.tryNumber}: ${error} -> ${end.to}`, ...attemptFields(ti) });
    return true;
  }

  /** An attempt that ends its task: run, task instance and lease locked in the usual order, then evaluated. */
  private async reapUnderRunLock(db: UnitOfWork, candidate: Candidate, now: Date): Promise<boolean> {
    const run = await this.runs.lockRun(db, candidate.dagRunId);
    if (!run) return false;
    const lease = await this.leases.findLease(db, candidate.id, true);
    if (!lease || lease.cancelRequested) return false;
    const ti = await this.runs.lockTaskInstance(db, lease.taskInstanceId);
    if (!ti || !isDue(lease, now) || ti.state !== 'running' || ti.tryNumber !== lease.tryNumber) return false;
    const error = reapError(candidate.reason, lease);
    const cancel = candidate.reason === 'timeout' && lease.expiresAt > now;
    // Without `cancel`, the lease row ends in the same statement as the attempt (its pool slot frees with it).
    const result = await this.engine.finishAttempt(db, run, ti, { status: 'failed', error }, now, cancel ? undefined : { id: lease.id, completionHash: null });
    if (cancel) await this.runs.cancelLease(db, lease.id);
    this.logger.warn({ msg: `${ti.dagId}/${ti.runId}/${ti.taskId} try ${ti.tryNumber}: ${error} -> ${result.state}`, ...attemptFields(ti) });
    return true;
  }
}

function isDue(lease: { expiresAt: Date; deadlineAt: Date | null }, now: Date): boolean {
  return lease.expiresAt <= now || (lease.deadlineAt !== null && lease.deadlineAt <= now);
}

function reapError(reason: 'expired' | 'timeout', lease: { expiresAt: Date; deadlineAt: Date | null; workerId: string }): string {
  return reason === 'timeout'
    ? `execution timeout: the attempt ran past its deadline ${lease.deadlineAt?.toISOString()}`
    : `lease expired at ${lease.expiresAt.toISOString()} without a heartbeat (worker ${lease.workerId})`;
}
