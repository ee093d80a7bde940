/**
 * Group commit across requests, per process. A request submits one item; when no batch of its key is in flight the
 * item is served at once as a batch of one (a lone request never waits for a window); while one is in flight (or
 * `maxInFlight` are), items that arrive queue, and the moment one ends they are served together as the next batch
 * (at most `maxItems`, in arrival order). So the "window" is exactly the time of the batch in flight: under load the batches grow by
 * themselves, at low load nothing waits.
 *
 * `serve` answers one result per item, in order: an item's own failure (a stale lease, a refused claim) is its
 * result, not the batch's, so one bad item never fails the others. A `serve` that throws fails every item of
 * that batch with that error (the caller decides whether to retry them one by one before it throws).
 *
 * Pure: no database, no clock, no framework.
 */
export type ItemResult<R> = { ok: true; value: R } | { ok: false; error: unknown };

type Pending<I, R> = { item: I; resolve: (r: R) => void; reject: (e: unknown) => void };

export class GroupCommit<I, R> {
  private readonly queued: Pending<I, R>[] = [];
  /** Batches in flight (at most `maxInFlight`). */
  private running = 0;
  /** Batches served so far and the items they held (for metrics and tests). */
  batches = 0;
  items = 0;

  constructor(
    private readonly serve: (items: I[]) => Promise<ItemResult<R>[]>,
    readonly maxItems = 64,
    private readonly onBatch?: (size: number) => void,
    /** Called when the last batch ended and nothing waits (KeyedGroupCommit drops the group then). */
    private readonly onIdle?: () => void,
    /** Batches that may be in flight at once; items wait only when this many are. */
    readonly maxInFlight = 1,
  ) {
    if (!(maxItems >= 1)) throw new Error('GroupCommit: maxItems must be at least 1');
    if (!(maxInFlight >= 1)) throw new Error('GroupCommit: maxInFlight must be at least 1');
  }

  /** Items waiting for the batch in flight to end. */
  get waiting(): number {
    return this.queued.length;
  }

  get inFlight(): boolean {
    return this.running > 0;
  }

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queued.push({ item, resolve, reject });
      if (this.running < this.maxInFlight) this.start();
    });
  }

  /** A batch ended: the next one starts with what queued meanwhile. */
  private ended(): void {
    this.running--;
    if (this.queued.length) this.start();
    else if (!this.running) this.onIdle?.();
  }

  private start(): void {
    this.running++;
    const batch = this.queued.splice(0, this.maxItems);
    this.batches++;
    this.items += batch.length;
    this.onBatch?.(batch.length);
    let served: Promise<ItemResult<R>[]>;
    try {
      served = this.serve(batch.map((p) => p.item));
    } catch (err) {
      served = Promise.reject(err);
    }
    served
      .then(
        (results) => {
          batch.forEach((p, i) => {
            const r = results[i];
            if (!r) p.reject(new Error('GroupCommit: no result for an item of the batch'));
            else if (r.ok) p.resolve(r.value);
            else p.reject(r.error);
          });
        },
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      )
      .finally(() => this.ended());
  }
}

/** One GroupCommit per key (a claim's queues and filters), dropped when idle. */
export class KeyedGroupCommit<I, R> {
  private readonly groups = new Map<string, GroupCommit<I, R>>();

  constructor(
    private readonly serve: (items: I[]) => Promise<ItemResult<R>[]>,
    readonly maxItems = 64,
    private readonly onBatch?: (size: number) => void,
    readonly maxInFlight = 1,
  ) {}

  get size(): number {
    return this.groups.size;
  }

  submit(key: string, item: I): Promise<R> {
    let g = this.groups.get(key);
    if (!g) {
      const group: GroupCommit<I, R> = new GroupCommit(this.serve, this.maxItems, this.onBatch, () => {
        if (this.groups.get(key) === group) this.groups.delete(key);
      }, this.maxInFlight);
      g = group;
      this.groups.set(key, g);
    }
    return g.submit(item);
  }
}

/**
 * Serves a batch item by item (the fallback when the batch's one statement failed as a whole, for instance a
 * deadlock against another process's batch: nothing of it was committed, so each item runs again on its own).
 */
export async function oneByOne<I, R>(items: I[], one: (item: I) => Promise<R>): Promise<ItemResult<R>[]> {
  const out: ItemResult<R>[] = [];
  for (const item of items) {
    try {
      out.push({ ok: true, value: await one(item) });
    } catch (error) {
      out.push({ ok: false, error });
    }
  }
  return out;
}
