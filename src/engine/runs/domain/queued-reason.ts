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
};

/**
 * Why a queued task instance does not start, when the reason is not just a wait for a slot: its pool does not exist
 * (it stays queued until the pool is created), or no worker has polled its queue lately. null otherwise, and for
 * every other state.
 */
export function queuedReason(ti: { state: string; pool: string; queue: string }, facts: QueuedFacts, now: Date): string | null {
  if (ti.state !== 'queued') return null;
  if (!facts.pools.has(ti.pool)) return `pool '${ti.pool}' does not exist: the task stays queued until it is created (POST /api/v1/pools)`;
  const polled = facts.lastPolled.get(ti.queue);
  if (!polled) return `no worker polls queue '${ti.queue}'`;
  const idleSec = Math.floor((now.getTime() - polled.getTime()) / 1000);
  return idleSec > QUEUE_IDLE_SEC ? `no worker has polled queue '${ti.queue}' for ${idleSec} s (last at ${polled.toISOString()})` : null;
}
