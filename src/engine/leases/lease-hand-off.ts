import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../common/clock.js';
import { LAST_BEFORE_COMMIT, type EffectType, type TransactionEffect, type UnitOfWork } from '../../database/unit-of-work.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import type { QueuedRow, QueuedTasksSink } from '../runs/runs.repository.js';
import type { Waiter } from './domain/waiters.js';
import { LeasesRepository, type ClaimedTask } from './leases.repository.js';
import { QueueWakeups, type WaiterClaim } from './queue-wakeups.service.js';

/** A request that asked its transaction for the hand-off (QueuedTasks.prefer); `tasks` once that transaction committed. */
export type PreferredHandOff = { claim: WaiterClaim; tasks: ClaimedTask[] | null };

/**
 * The lease hand-off, a before-commit effect: a transaction of this process that queues tasks claims them, as its
 * last statement, for the longest-waiting request in its wait on one of those queues, so the request has its tasks
 * the moment the transaction commits: no notification round trip, no claim of its own, one commit less.
 * - At most one claim per transaction, as its last statement (LAST_BEFORE_COMMIT): the claim's limit locks are then
 *   never held while the transaction waits for another lock.
 * - Requests that filter by task type are left to the notification (their claim could come back empty).
 * - A completion with complete-and-lease-next claims for its own worker's next request instead (prefer).
 * - For the queues with such a request, the statements that queued the tasks left their NOTIFY to this step,
 *   which sends it for the tasks the claim did not take: the other waiters (here and on other replicas) are not
 *   woken for a task already handed off.
 */
@Injectable()
export class LeaseHandOff implements EffectType<QueuedTasks> {
  readonly effectName = 'lease hand-off';
  readonly commitOrder = LAST_BEFORE_COMMIT;
  private readonly logger = new Logger('leases');

  constructor(
    readonly wakeups: QueueWakeups,
    readonly leases: LeasesRepository,
    readonly clock: Clock,
    readonly metrics: MetricsService,
  ) {}

  create(tx: UnitOfWork): QueuedTasks {
    return new QueuedTasks(this, tx, this.logger);
  }
}

/** What a transaction queued on one queue (task instance ids), and those whose NOTIFY it left to its end. */
type QueuedOnQueue = { ids: number[]; unannounced: number[] };

/** One transaction's queued tasks and its hand-off (LeaseHandOff). */
export class QueuedTasks implements TransactionEffect, QueuedTasksSink {
  private readonly queued = new Map<string, QueuedOnQueue>();
  private preferred: PreferredHandOff | null = null;
  private waiter: Waiter<WaiterClaim, ClaimedTask> | null = null;
  private claimed: ClaimedTask[] | null = null;

  constructor(
    private readonly handOff: LeaseHandOff,
    private readonly tx: UnitOfWork,
    private readonly logger: Logger,
  ) {}

  /** The queues whose NOTIFY a statement queueing tasks leaves to the end of the transaction (see LeaseHandOff). */
  queuesToDefer(): string[] {
    const queues = this.handOff.wakeups.handOffQueues();
    return this.preferred ? [...new Set([...queues, ...this.preferred.claim.queues])] : queues;
  }

  /** What a statement queued, per queue, and whether it sent the NOTIFY itself. */
  note(rows: QueuedRow[]): void {
    for (const r of rows) {
      if (!r.ids.length) continue;
      let q = this.queued.get(r.queue);
      if (!q) this.queued.set(r.queue, (q = { ids: [], unannounced: [] }));
      q.ids.push(...r.ids);
      if (!r.announced) q.unannounced.push(...r.ids);
    }
  }

  /**
   * Complete-and-lease-next: what this transaction queues goes to the completing worker's next request (that
   * worker is ready now) instead of to a waiting one. `tasks` is set once the transaction committed, if it queued
   * anything; otherwise the request leases as usual.
   */
  prefer(claim: WaiterClaim): PreferredHandOff {
    this.preferred = { claim, tasks: null };
    return this.preferred;
  }

  async beforeCommit(): Promise<void> {
    if (!this.queued.size) return;
    this.waiter = this.preferred ? null : this.handOff.wakeups.takeHandOffWaiter(this.queued.keys());
    const claim = this.preferred?.claim ?? this.waiter?.request;
    let tasks: ClaimedTask[] = [];
    if (claim) ({ tasks } = await this.handOff.leases.claim(this.tx, { ...claim, now: this.handOff.clock.now() }));
    if (claim) this.claimed = tasks;
    await this.announceRest(tasks);
  }

  settle(committed: boolean): void {
    const tasks = this.claimed;
    if (tasks?.length) {
      if (committed) this.handOff.metrics.leasesHandedOff.inc(tasks.length);
      else this.logger.debug({ msg: `hand-off of ${tasks.length} task(s) rolled back with its transaction` });
    }
    if (this.preferred && committed && tasks) this.preferred.tasks = tasks;
    if (this.waiter) this.handOff.wakeups.settleHandOff(this.waiter, committed ? (tasks ?? []) : null);
  }

  /** The NOTIFY the queueing statements left to the end of the transaction, for the tasks the hand-off did not take. */
  private async announceRest(taken: ClaimedTask[]): Promise<void> {
    const takenIds = new Set(taken.map((t) => t.taskInstanceId));
    const rest = new Map<string, number>();
    for (const [queue, q] of this.queued) {
      const n = q.unannounced.filter((id) => !takenIds.has(id)).length;
      if (n) rest.set(queue, n);
    }
    if (rest.size) await this.handOff.leases.announceQueued(this.tx, rest);
  }
}
