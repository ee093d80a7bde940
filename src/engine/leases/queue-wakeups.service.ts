import { Injectable } from '@nestjs/common';
import { PgListener, type ChannelHandler } from '../../database/pg-listener.service.js';
import { WakeTicket } from './domain/wake-ticket.js';
import { parseQueuedPayload, Waiter, WaiterRegistry } from './domain/waiters.js';
import type { ClaimedTask, ClaimRequest } from './leases.repository.js';
import { QUEUED_CHANNEL, SLOT_FREED } from './queued-channel.js';

/** What a hand-off claims with for a waiting request: its own claim's parameters, less the time. */
export type WaiterClaim = Omit<ClaimRequest, 'now'>;

/** Requests a hand-off may claim for: those without a task-type filter. */
const eligibleForHandOff = (w: Waiter<WaiterClaim, ClaimedTask>): boolean => !w.request?.taskTypes;

/**
 * Wakes waiting lease requests when work is queued. Every queueing transaction sends NOTIFY on commit (payload
 * `<queue>:<tasks queued>`); the process's LISTEN connection (PgListener) turns that into wake-ups of as many
 * waiters of that queue as the tasks need (WaiterRegistry), so a wait ends within milliseconds on every replica,
 * whichever replica queued the task, and idle waiters are not woken for work they would not get.
 */
@Injectable()
export class QueueWakeups {
  private readonly waiters = new WaiterRegistry<WaiterClaim, ClaimedTask>();
  private readonly handler: ChannelHandler = {
    onNotify: (payload) => this.onPayload(payload),
    // Notifications may have been lost: wake everyone, so none sleeps through queued work; they re-check.
    onLost: () => this.waiters.all(),
  };

  constructor(private readonly listener: PgListener) {}

  /** The queues with a request in its wait that a hand-off may claim for (see LeaseHandOff). */
  handOffQueues(): string[] {
    return this.waiters.waitingQueues(eligibleForHandOff);
  }

  /** The longest-waiting request on one of `queues` that a hand-off may claim for, out of the registry until settled. */
  takeHandOffWaiter(queues: Iterable<string>): Waiter<WaiterClaim, ClaimedTask> | null {
    return this.waiters.take(queues, eligibleForHandOff);
  }

  /** A hand-off's transaction ended: its request gets what was claimed for it (null: rolled back, it looks again). */
  settleHandOff(waiter: Waiter<WaiterClaim, ClaimedTask>, tasks: ClaimedTask[] | null): void {
    this.waiters.settle(waiter, tasks);
  }

  /**
   * Registers a waiting request (before it claims: see WakeTicket). `slotWaiter`: its last claim was held back by
   * a pool or DAG limit, so freed slots wake it too.
   */
  subscribe(queues: readonly string[], capacity: number, slotWaiter: boolean, claim: WaiterClaim): WakeTicket<WaiterClaim, ClaimedTask> {
    return new WakeTicket(this.waiters, queues, capacity, slotWaiter, claim);
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
