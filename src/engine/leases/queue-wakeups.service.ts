import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import pg from 'pg';
import { Clock } from '../../common/clock.js';
import { PgListener, type ChannelHandler } from '../../database/pg-listener.service.js';
import { attachedToTransaction, attachToTransaction, PG_POOL, setQueuedHandOff, type Queryable, type QueuedHandOff, type QueuedOnQueue } from '../../database/pg.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { QUEUED_CHANNEL, SLOT_FREED } from '../runs/runs.repository.js';
import { WakeTicket } from './domain/wake-ticket.js';
import { parseQueuedPayload, Waiter, WaiterRegistry } from './domain/waiters.js';
import { LeasesRepository, type ClaimedTask, type ClaimRequest } from './leases.repository.js';

/** What a hand-off claims with for a waiting request: its own claim's parameters, less the time. */
export type WaiterClaim = Omit<ClaimRequest, 'now'>;

/** A request that asked its transaction for the hand-off (preferHandOff); `tasks` once that transaction committed. */
export type PreferredHandOff = { claim: WaiterClaim; tasks: ClaimedTask[] | null };
const PREFERRED = Symbol('weft.preferredHandOff');
/** Requests a hand-off may claim for: those without a task-type filter. */
const eligibleForHandOff = (w: Waiter<WaiterClaim, ClaimedTask>): boolean => !w.request?.taskTypes;

/**
 * Wakes waiting lease requests when work is queued. Every queueing transaction sends NOTIFY on commit (payload
 * `<queue>:<tasks queued>`); the process's LISTEN connection (PgListener) turns that into wake-ups of as many
 * waiters of that queue as the tasks need (WaiterRegistry), so a wait ends within milliseconds on every replica,
 * whichever replica queued the task, and idle waiters are not woken for work they would not get.
 */
@Injectable()
export class QueueWakeups implements OnModuleDestroy {
  private readonly logger = new Logger('leases');
  private readonly waiters = new WaiterRegistry<WaiterClaim, ClaimedTask>();
  private readonly handler: ChannelHandler = {
    onNotify: (payload) => this.onPayload(payload),
    // Notifications may have been lost: wake everyone, so none sleeps through queued work; they re-check.
    onLost: () => this.waiters.all(),
  };

  constructor(
    private readonly listener: PgListener,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly leases: LeasesRepository,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {
    setQueuedHandOff(pool, this.handOff);
  }

  onModuleDestroy(): void {
    setQueuedHandOff(this.pool, null);
  }

  /**
   * Hand-off (inTransaction, QueuedHandOff): a transaction of this process that queues tasks claims them, as its
   * last statement, for the longest-waiting request in its wait on one of those queues, so the request has its
   * tasks the moment the transaction commits: no notification round trip, no claim of its own, one commit less.
   * - At most one claim per transaction, as its last statement: the claim's limit locks are then never held while
   *   the transaction waits for another lock.
   * - Requests that filter by task type are left to the notification (their claim could come back empty).
   * - A completion with complete-and-lease-next claims for its own worker's next request instead (preferHandOff).
   * - For the queues with such a request, the statements that queued the tasks left their NOTIFY to this step,
   *   which sends it for the tasks the claim did not take: the other waiters (here and on other replicas) are not
   *   woken for a task already handed off.
   */
  private readonly handOff: QueuedHandOff = {
    queuesToDefer: (db) => {
      const queues = this.waiters.waitingQueues(eligibleForHandOff);
      const preferred = attachedToTransaction<PreferredHandOff>(db, PREFERRED);
      return preferred ? [...new Set([...queues, ...preferred.claim.queues])] : queues;
    },
    beforeCommit: async (db, queued) => {
      const preferred = attachedToTransaction<PreferredHandOff>(db, PREFERRED);
      const waiter = preferred ? null : this.waiters.take(queued.keys(), eligibleForHandOff);
      const claim = preferred?.claim ?? waiter?.request;
      let tasks: ClaimedTask[] = [];
      try {
        if (claim) ({ tasks } = await this.leases.claim(db, { ...claim, now: this.clock.now() }));
        await this.announceRest(db, queued, tasks);
      } catch (err) {
        if (waiter) this.waiters.settle(waiter, null);
        throw err;
      }
      if (!claim) return null;
      return (committed) => {
        if (committed && tasks.length) this.metrics.leasesHandedOff.inc(tasks.length);
        else if (tasks.length) this.logger.debug({ msg: `hand-off of ${tasks.length} task(s) rolled back with its transaction` });
        if (preferred) {
          if (committed) preferred.tasks = tasks;
        } else if (waiter) {
          this.waiters.settle(waiter, committed ? tasks : null);
        }
      };
    },
  };

  /** The NOTIFY the queueing statements left to the end of the transaction, for the tasks the hand-off did not take. */
  private async announceRest(db: Queryable, queued: ReadonlyMap<string, QueuedOnQueue>, taken: ClaimedTask[]): Promise<void> {
    const takenIds = new Set(taken.map((t) => t.taskInstanceId));
    const rest = new Map<string, number>();
    for (const [queue, q] of queued) {
      const n = q.unannounced.filter((id) => !takenIds.has(id)).length;
      if (n) rest.set(queue, n);
    }
    if (rest.size) await this.leases.announceQueued(db, rest);
  }

  /**
   * Registers a waiting request (before it claims: see WakeTicket). `slotWaiter`: its last claim was held back by
   * a pool or DAG limit, so freed slots wake it too.
   */
  subscribe(queues: readonly string[], capacity: number, slotWaiter: boolean, claim: WaiterClaim): WakeTicket<WaiterClaim, ClaimedTask> {
    return new WakeTicket(this.waiters, queues, capacity, slotWaiter, claim);
  }

  /**
   * Complete-and-lease-next: the completion's transaction hands what it queues to the completing worker's next
   * request (that worker is ready now), instead of to a waiting one. `tasks` is set once the transaction
   * committed, if it queued anything; otherwise the request leases as usual.
   */
  preferHandOff(db: Queryable, claim: WaiterClaim): PreferredHandOff | null {
    const preferred: PreferredHandOff = { claim, tasks: null };
    return attachToTransaction(db, PREFERRED, preferred) ? preferred : null;
  }

  /** Hands `n` tasks of `queue` on to this process's next waiters (see shareToPassOn). */
  passOn(queue: string | null, n: number): void {
    if (queue !== null && n > 0) this.waiters.queued(queue, n);
  }

  private onPayload(payload: string): void {
    if (!payload) return;
    if (payload === SLOT_FREED) {
      this.waiters.slotFreed();
      return;
    }
    const { queue, n } = parseQueuedPayload(payload);
    this.waiters.queued(queue, n);
  }

  /** Makes sure the LISTEN is in effect before a waiter checks for work, so no notification can fall in between. */
  async ensureListening(): Promise<void> {
    if (this.listener.isListening(QUEUED_CHANNEL)) return;
    await this.listener.listen(QUEUED_CHANNEL, this.handler);
  }
}
