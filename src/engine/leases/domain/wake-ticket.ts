import { Waiter, type WaiterRegistry } from './waiters.js';

/** One waiting lease request's subscription: taken before it claims, so work queued meanwhile still wakes it. */
export class WakeTicket<R = unknown, T = unknown> {
  private readonly woken: Promise<void>;
  private resolveWoken!: () => void;
  readonly waiter: Waiter<R, T>;

  constructor(
    private readonly registry: WaiterRegistry<R, T>,
    queues: readonly string[],
    capacity: number,
    slotWaiter: boolean,
    request?: R,
  ) {
    this.woken = new Promise((resolve) => (this.resolveWoken = resolve));
    this.waiter = new Waiter(queues, capacity, slotWaiter, () => this.resolveWoken(), request);
    registry.add(this.waiter);
  }

  /**
   * Resolves true once woken (at once if it already was), false when `ms` pass or `signal` aborts. While it waits,
   * a transaction that queues work may take it for a hand-off; a wait that ends meanwhile lasts until that
   * transaction ends (a commit away), so what it claimed is never left without its request.
   */
  async wait(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.waiter.woken) return true;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    this.waiter.waiting = true;
    const result = signal?.aborted
      ? false
      : await Promise.race([
          this.woken.then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), ms);
            onAbort = () => resolve(false);
            signal?.addEventListener('abort', onAbort, { once: true });
          }),
        ]);
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    // In the same synchronous step as the check: a hand-off either took it before (wait for its outcome) or not at all.
    this.waiter.waiting = false;
    if (!result && this.waiter.reserved) {
      await this.woken;
      return true;
    }
    return result;
  }

  /** Its claim was held back by a pool or DAG limit: freed slots wake it too (WaiterRegistry.holdForSlots). */
  holdForSlots(): void {
    this.registry.holdForSlots(this.waiter);
  }

  cancel(): void {
    this.registry.remove(this.waiter);
  }
}
