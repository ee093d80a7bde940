/**
 * How long a queue may go without a lease request before a queued task says so: a worker's long poll waits at most
 * 30 s (the lease API's cap) and is seen when it starts, so a live worker is never quieter than that; twice it leaves
 * room for a slow request.
 */
export const QUEUE_IDLE_SEC = 60;

/** What the database says about the pools and queues of queued task instances. */
export type QueuedFacts = {
  /** The pools that exist, among those asked about. */
  pools: ReadonlySet<string>;
  /** The last time a worker asked for tasks of each queue (absent: no worker known to poll it). */
  lastPolled: ReadonlyMap<string, Date>;
  /**
   * The task types the workers that polled each queue within QUEUE_IDLE_SEC take: `any` when one of them takes
   * every type (its lease requests name no `taskTypes`). Absent: no such worker.
   */
  recentTypes: ReadonlyMap<string, { any: boolean; types: ReadonlySet<string> }>;
};

/**
 * Why a queued task instance does not start, when the reason is not just a wait for a slot: its pool does not exist
 * (it stays queued until the pool is created), no worker has polled its queue lately, or the workers that do take
 * other task types (their lease requests' `taskTypes`). null otherwise, and for every other state.
 */
export function queuedReason(ti: { state: string; pool: string; queue: string; taskType: string }, facts: QueuedFacts, now: Date): string | null {
  if (ti.state !== 'queued') return null;
  if (!facts.pools.has(ti.pool)) return `pool '${ti.pool}' does not exist: the task stays queued until it is created (POST /api/v1/pools)`;
  const polled = facts.lastPolled.get(ti.queue);
  if (!polled) return `no worker polls queue '${ti.queue}'`;
  const idleSec = Math.floor((now.getTime() - polled.getTime()) / 1000);
  if (idleSec > QUEUE_IDLE_SEC) return `no worker has polled queue '${ti.queue}' for ${idleSec} s (last at ${polled.toISOString()})`;
  const recent = facts.recentTypes.get(ti.queue);
  if (!recent || recent.any || recent.types.has(ti.taskType)) return null;
  const taken = [...recent.types].sort();
  const shown = taken.length > 10 ? `${taken.slice(0, 10).join(', ')}, … (${taken.length})` : taken.join(', ');
  return `workers poll queue '${ti.queue}' but none takes task type '${ti.taskType}' (they take: ${shown})`;
}
