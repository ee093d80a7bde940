import type { Queryable } from './pg.js';

/**
 * event_listeners: processes that have live subscribers right now (GraphQL subscriptions, log tails). Writers send
 * their NOTIFYs only while a row here has not expired, because a NOTIFY serialises commits and nobody would hear it.
 */

/** Registers (or refreshes) process `id` for `ttlSec`; committing writers NOTIFY meanwhile. */
export async function registerListener(db: Queryable, id: string, ttlSec: number): Promise<void> {
  await db.query(
    `INSERT INTO event_listeners (id, expires_at) VALUES ($1, now() + make_interval(secs => $2))
     ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
    [id, ttlSec],
  );
  // Rows of processes that died without unregistering.
  await db.query(`DELETE FROM event_listeners WHERE expires_at < now() - interval '1 minute'`);
}

export async function removeListener(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM event_listeners WHERE id = $1', [id]);
}
