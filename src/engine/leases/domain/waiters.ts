/**
 * Lease requests waiting in a long poll, and which of them a notification wakes. A notification that n tasks were
 * queued on a queue wakes the longest-waiting requests on it until their capacities cover n, not every waiter:
 * the others would only run an empty claim. Waiters held back by a pool or DAG limit wait for freed slots instead.
 * A transaction of this process that queues tasks may also take one waiting request (take) and claim for it
 * before it commits (a hand-off): the request then gets those tasks without a claim of its own.
 */
export class Waiter<R = unknown, T = unknown> {
  /** How many of the tasks of the notification that woke this waiter it is expected to take; 0 while asleep. */
  share = 0;
  /** The queue whose notification woke it (null: woken by a freed slot, a broadcast or a hand-off). */
  wokenBy: string | null = null;
  /** In its wait (not claiming): only then may a hand-off take it. Set and cleared by its request. */
  waiting = false;
  /** Taken for a hand-off: out of the registry until that transaction ends (settle). */
  reserved = false;
  /** What a hand-off claimed for it, once that transaction committed. */
  handed: T[] | null = null;
  /** @internal Arrival order across queues (take picks the longest-waiting). */
  seq = 0;
  /** @internal How many freed-slot wake-ups the registry had sent when this waiter arrived (holdForSlots). */
  slotEpoch = 0;

  constructor(
    readonly queues: readonly string[],
    readonly capacity: number,
    /** Its last claim was held back by a pool or DAG limit: freed slots wake it too (see holdForSlots). */
    public slotWaiter: boolean,
    private readonly onWake: () => void,
    /** What a hand-off needs to claim for this request (the worker, its filters). */
    readonly request?: R,
  ) {}

  get woken(): boolean {
    return this.share > 0;
  }

  /** @internal Called by the registry once, when it removes the waiter (or settles its hand-off). */
  wake(share: number, queue: string | null, handed: T[] | null = null): void {
    this.reserved = false;
    this.handed = handed;
    this.share = share;
    this.wokenBy = queue;
    this.onWake();
  }
}

export class WaiterRegistry<R = unknown, T = unknown> {
  /** Per queue, in arrival order (a Set iterates in insertion order). */
  private readonly byQueue = new Map<string, Set<Waiter<R, T>>>();
  private readonly slotWaiters = new Set<Waiter<R, T>>();
  private arrivals = 0;
  /** Freed-slot wake-ups sent so far (slotFreed, all). */
  private slotsFreed = 0;

  get size(): number {
    const all = new Set<Waiter<R, T>>(this.slotWaiters);
    for (const set of this.byQueue.values()) for (const w of set) all.add(w);
    return all.size;
  }

  add(w: Waiter<R, T>): void {
    w.seq = ++this.arrivals;
    w.slotEpoch = this.slotsFreed;
    for (const q of w.queues) {
      let set = this.byQueue.get(q);
      if (!set) this.byQueue.set(q, (set = new Set()));
      set.add(w);
    }
    if (w.slotWaiter) this.slotWaiters.add(w);
  }

  remove(w: Waiter<R, T>): void {
    for (const q of w.queues) {
      const set = this.byQueue.get(q);
      if (!set) continue;
      set.delete(w);
      if (!set.size) this.byQueue.delete(q);
    }
    this.slotWaiters.delete(w);
  }

  /**
   * `n` tasks were queued on `queue` (Infinity when the count is unknown): wakes waiters on it, longest-waiting
   * first, until their capacities cover n. Returns how many it woke.
   */
  queued(queue: string, n: number): number {
    const set = this.byQueue.get(queue);
    let left = n;
    let woken = 0;
    for (const w of set ? [...set] : []) {
      if (left <= 0) break;
      const share = Math.min(w.capacity, left);
      left -= share;
      this.remove(w);
      w.wake(share, queue);
      woken++;
    }
    return woken;
  }

  /**
   * For a hand-off: the longest-waiting request on any of `queues` that is in its wait and `eligible`, taken out of
   * the registry (no notification wakes it now) and marked reserved until settle().
   */
  take(queues: Iterable<string>, eligible: (w: Waiter<R, T>) => boolean = () => true): Waiter<R, T> | null {
    let best: Waiter<R, T> | null = null;
    for (const q of queues) {
      for (const w of this.byQueue.get(q) ?? []) {
        if (!w.waiting || !eligible(w)) continue;
        if (!best || w.seq < best.seq) best = w;
        break; // later ones on this queue arrived later
      }
    }
    if (!best) return null;
    this.remove(best);
    best.reserved = true;
    return best;
  }

  /** The queues that have a request in its wait that is `eligible` (for a hand-off). */
  waitingQueues(eligible: (w: Waiter<R, T>) => boolean = () => true): string[] {
    const queues: string[] = [];
    for (const [queue, set] of this.byQueue) {
      for (const w of set) {
        if (w.waiting && eligible(w)) {
          queues.push(queue);
          break;
        }
      }
    }
    return queues;
  }

  /**
   * The end of a hand-off: the tasks claimed for the waiter, or (none: the transaction rolled back, or the claim
   * found nothing) a plain wake-up, so the request looks for itself.
   */
  settle(w: Waiter<R, T>, handed: T[] | null): void {
    if (handed?.length) w.wake(handed.length, null, handed);
    else w.wake(w.capacity, null);
  }

  /**
   * A registered waiter whose claim (made after it subscribed) was held back by a pool or DAG limit: from now on
   * freed slots wake it too. Should a slot have been freed since it arrived, it is woken at once instead (it may
   * have missed that one while it was claiming). A waiter already woken or taken for a hand-off is left as it is.
   */
  holdForSlots(w: Waiter<R, T>): void {
    if (w.woken || w.reserved || w.slotWaiter) return;
    if (this.slotsFreed !== w.slotEpoch) {
      this.remove(w);
      w.wake(w.capacity, null);
      return;
    }
    w.slotWaiter = true;
    this.slotWaiters.add(w);
  }

  /** A pool or DAG slot opened: wakes every waiter whose work a limit held back. */
  slotFreed(): number {
    this.slotsFreed++;
    const woken = [...this.slotWaiters];
    for (const w of woken) {
      this.remove(w);
      w.wake(w.capacity, null);
    }
    return woken.length;
  }

  /** Notifications may have been lost (the LISTEN connection dropped): every waiter looks again. */
  all(): number {
    this.slotsFreed++;
    const woken = new Set<Waiter<R, T>>(this.slotWaiters);
    for (const set of this.byQueue.values()) for (const w of set) woken.add(w);
    for (const w of woken) {
      this.remove(w);
      w.wake(w.capacity, null);
    }
    return woken.size;
  }
}

/**
 * After a claim made for a wake-up of `share` tasks, how many of them to hand on to the next waiters of the queue:
 * - the claim came back full: it may have been answered by other work, so the whole share;
 * - it filters by task type and took fewer than its share: the rest, which other waiters may be able to take.
 * A claim without a filter that came back short saw the queue drained (or held back by limits): nothing.
 * (A wake-up that arrives while the request is already claiming, for a request that then answers with tasks, is
 * handed on whole by the caller: that claim may not have seen the new work.)
 */
export function shareToPassOn(o: { share: number; claimed: number; capacity: number; filtered: boolean }): number {
  if (o.share <= 0) return 0;
  if (o.claimed >= o.capacity) return o.share;
  if (o.filtered && o.claimed < o.share) return o.share - o.claimed;
  return 0;
}

/** NOTIFY payloads on the queued channel: `<queue>:<count>`, or a bare queue name (count unknown). */
export function parseQueuedPayload(payload: string): { queue: string; n: number } {
  const i = payload.lastIndexOf(':');
  if (i > 0) {
    const n = Number(payload.slice(i + 1));
    if (Number.isInteger(n) && n > 0) return { queue: payload.slice(0, i), n };
  }
  return { queue: payload, n: Infinity };
}
