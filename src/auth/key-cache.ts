/**
 * A small time-bounded LRU map for looked-up credentials. `generation` moves on every invalidation, so a lookup
 * that started before one (and may carry what was just invalidated) is not stored: `set` takes the generation read
 * before the lookup began.
 */
export class KeyCache<T> {
  private readonly entries = new Map<string, { value: T; expiresAt: number }>();
  generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): T | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used last (Map keeps insertion order), so the oldest entry is evicted first.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  set(key: string, value: T, generation: number, now: number): void {
    if (!this.enabled || generation !== this.generation) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: now + this.ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Drops every entry `matches` selects. */
  invalidate(matches: (value: T) => boolean): void {
    this.generation++;
    for (const [k, e] of this.entries) if (matches(e.value)) this.entries.delete(k);
  }
}
