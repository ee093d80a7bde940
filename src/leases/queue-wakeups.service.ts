import { Injectable } from '@nestjs/common';
import { type ChannelHandler, PgListener } from '../database/pg-listener.service.js';
import { QUEUED_CHANNEL, SLOT_FREED } from '../runs/runs.repository.js';
import { parseQueuedPayload, Waiter, WaiterRegistry } from './domain/waiters.js';

/** One waiting lease request's subscription: taken before it claims, so work queued meanwhile still wakes it. */
export class WakeTicket {
  private readonly woken: Promise<void>;
  private resolveWoken!: () => void;
  readonly waiter: Waiter;

  constructor(
    private readonly registry: WaiterRegistry,
    queues: readonly string[],
    capacity: number,
    slotWaiter: boolean,
  ) {
    this.woken = new Promise((resolve) => (this.resolveWoken = resolve));
    this.waiter = new Waiter(queues, capacity, slotWaiter, () => this.resolveWoken());
    registry.add(this.waiter);
  }

  /** Resolves true once woken (at once if it already was), false when `ms` pass or `signal` aborts. */
  async wait(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.waiter.woken) return true;
    if (signal?.aborted) return false;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const result = await Promise.race([
      this.woken.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
        onAbort = () => resolve(false);
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    return result;
  }

  cancel(): void {
    this.registry.remove(this.waiter);
  }
}

/**
 * Wakes waiting lease requests when work is queued. Every queueing transaction sends NOTIFY on commit (payload
 * `<queue>:<tasks queued>`); the process's LISTEN connection (PgListener) turns that into wake-ups of as many
 * waiters of that queue as the tasks need (WaiterRegistry), so a wait ends within milliseconds on every replica,
 * whichever replica queued the task, and idle waiters are not woken for work they would not get.
 */
@Injectable()
export class QueueWakeups {
  private readonly waiters = new WaiterRegistry();
  private readonly handler: ChannelHandler = {
    onNotify: (payload) => this.onPayload(payload),
    // Notifications may have been lost: wake everyone, so none sleeps through queued work; they re-check.
    onLost: () => this.waiters.all(),
  };

  constructor(private readonly listener: PgListener) {}

  /**
   * Registers a waiting request (before it claims: see WakeTicket). `slotWaiter`: its last claim was held back by
   * a pool or DAG limit, so freed slots wake it too.
   */
  subscribe(queues: readonly string[], capacity: number, slotWaiter: boolean): WakeTicket {
    return new WakeTicket(this.waiters, queues, capacity, slotWaiter);
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
