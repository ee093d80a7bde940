import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import pg from 'pg';
import { Clock } from '../common/clock.js';
import { PgListener, type ChannelHandler } from '../database/pg-listener.service.js';
import { attachedToTransaction, attachToTransaction, PG_POOL, setQueuedHandOff, type Queryable, type QueuedHandOff } from '../database/pg.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { QUEUED_CHANNEL, SLOT_FREED } from '../runs/runs.repository.js';
import { WakeTicket } from './domain/wake-ticket.js';
import { parseQueuedPayload, WaiterRegistry } from './domain/waiters.js';
import { LeasesRepository, type ClaimedTask, type ClaimRequest } from './leases.repository.js';

/** What a hand-off claims with for a waiting request: its own claim's parameters, less the time. */
export type WaiterClaim = Omit<ClaimRequest, 'now'>;

/** A request that asked its transaction for the hand-off (preferHandOff); `tasks` once that transaction committed. */
export type PreferredHandOff = { claim: WaiterClaim; tasks: ClaimedTask[] | null };
const PREFERRED = Symbol('weft.preferredHandOff');

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
   * The last step of a transaction of this process that queued tasks (inTransaction): claims for the
   * longest-waiting request on one of those queues, in that transaction, so the request has its tasks the moment
   * the transaction commits: no notification round trip, no claim of its own, one commit less. At most one claim
   * per transaction, as its last statement: the claim's limit locks are then never held while the transaction
   * waits for another lock. Requests that filter by task type are left to the notification (their claim could
   * come back empty). Every other waiter still learns of the work from the NOTIFY, as other replicas do.
   * A completion with complete-and-lease-next claims for its own worker's next request instead (preferHandOff).
   */
  private readonly handOff: QueuedHandOff = async (db, queued) => {
    const preferred = attachedToTransaction<PreferredHandOff>(db, PREFERRED);
    if (preferred) {
      const { tasks } = await this.leases.claim(db, { ...preferred.claim, now: this.clock.now() });
      return (committed) => {
        if (!committed) return;
        if (tasks.length) this.metrics.leasesHandedOff.inc(tasks.length);
        preferred.tasks = tasks;
      };
    }
    const waiter = this.waiters.take(queued.keys(), (w) => !w.request?.taskTypes);
    if (!waiter) return null;
    let tasks: ClaimedTask[];
    try {
      ({ tasks } = await this.leases.claim(db, { ...waiter.request!, now: this.clock.now() }));
    } catch (err) {
      this.waiters.settle(waiter, null);
      throw err;
    }
    return (committed) => {
      if (committed && tasks.length) this.metrics.leasesHandedOff.inc(tasks.length);
      else if (tasks.length) this.logger.debug({ msg: `hand-off of ${tasks.length} task(s) rolled back with its transaction` });
      this.waiters.settle(waiter, committed ? tasks : null);
    };
  };

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
