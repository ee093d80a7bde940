import pg from 'pg';
import { isDatabaseUnavailable } from '../common/database-unavailable.js';

/** Injection token of the process's one pg.Pool, shared by Prisma's adapter and the hand-written SQL. */
export const PG_POOL = Symbol('PG_POOL');

export type Queryable = Pick<pg.PoolClient, 'query'>;

/** Tasks a transaction queued on one queue (task instance ids), and those whose NOTIFY it left to its end. */
export type QueuedOnQueue = { ids: number[]; unannounced: number[] };

/**
 * A transaction that queues tasks may hand them straight to lease requests waiting in this process (QueueWakeups):
 * - `queuesToDefer()`: while it writes, the queues with such a request; the writing statement leaves the NOTIFY
 *   for their tasks to the end of the transaction, where it is sent for what the hand-off did not take;
 * - `beforeCommit()`: its last word before COMMIT, with what the transaction queued (noteQueued); it returns what to
 *   do once the outcome is known (`committed` false: the COMMIT or anything before it failed).
 */
export type QueuedHandOff = {
  queuesToDefer(db: pg.PoolClient): string[];
  beforeCommit(db: pg.PoolClient, queued: ReadonlyMap<string, QueuedOnQueue>): Promise<((committed: boolean) => void) | null>;
};

/** Per pool (one per app, so several apps in one process stay apart). */
const handOffs = new WeakMap<pg.Pool, QueuedHandOff>();
/** Per open transaction of inTransaction: tasks queued so far per queue, and what callers attached to it. */
type TransactionState = { queued: Map<string, QueuedOnQueue>; attached: Map<symbol, unknown>; handOff: QueuedHandOff | undefined };
const openTransactions = new WeakMap<object, TransactionState>();

export function setQueuedHandOff(pool: pg.Pool, handOff: QueuedHandOff | null): void {
  if (handOff) handOffs.set(pool, handOff);
  else handOffs.delete(pool);
}

/**
 * The queues whose NOTIFY a statement queueing tasks on `db` should leave to the end of its transaction (see
 * QueuedHandOff); none outside inTransaction, where the statement must announce everything itself.
 */
export function queuesToDefer(db: Queryable): string[] {
  return openTransactions.get(db)?.handOff?.queuesToDefer(db as pg.PoolClient) ?? [];
}

/**
 * Records that the transaction on `db` queued these task instances on `queue`, `announced` when the statement sent
 * their NOTIFY itself (a no-op outside inTransaction, where it always does).
 */
export function noteQueued(db: Queryable, queue: string, ids: number[], announced: boolean): void {
  const queued = openTransactions.get(db)?.queued;
  if (!queued || !ids.length) return;
  let q = queued.get(queue);
  if (!q) queued.set(queue, (q = { ids: [], unannounced: [] }));
  q.ids.push(...ids);
  if (!announced) q.unannounced.push(...ids);
}

/** Attaches `value` under `key` to the transaction open on `db`, for its end (false outside inTransaction). */
export function attachToTransaction(db: Queryable, key: symbol, value: unknown): boolean {
  const tx = openTransactions.get(db);
  tx?.attached.set(key, value);
  return Boolean(tx);
}

export function attachedToTransaction<T>(db: Queryable, key: symbol): T | undefined {
  return openTransactions.get(db)?.attached.get(key) as T | undefined;
}

/**
 * Runs `fn` in one transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when it throws.
 * Hot paths (run creation, completion, downstream evaluation, lease claims) use this with parameterised SQL,
 * which costs a fraction of a Prisma round trip. A transaction that queued tasks (noteQueued) gives the pool's
 * QueuedHandOff its last word before COMMIT.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const tx: TransactionState = { queued: new Map(), attached: new Map(), handOff: handOffs.get(pool) };
  openTransactions.set(client, tx);
  let settle: ((committed: boolean) => void) | null = null;
  let discard: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    if (tx.handOff && tx.queued.size) settle = await tx.handOff.beforeCommit(client, tx.queued);
    await client.query('COMMIT');
    settle?.(true);
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    settle?.(false);
    // A session that failed this way is not reused: one opened while the database was read-only (a failover)
    // stays read-only for its whole life, even once a writable primary is back.
    if (isDatabaseUnavailable(err)) discard = err as Error;
    throw err;
  } finally {
    openTransactions.delete(client);
    client.release(discard);
  }
}

/** PostgreSQL error code of a failed query (e.g. 23505 unique violation), if any. */
export function pgErrorCode(err: unknown): string | undefined {
  return (err as { code?: string })?.code;
}

type PrismaTx = { $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> };

/**
 * Lets a repository method written for pg run inside a Prisma interactive transaction (values stay bound
 * parameters; nothing is interpolated into the SQL text).
 */
export function prismaQueryable(tx: PrismaTx): Queryable {
  return {
    query: async (text: string, values: unknown[] = []) => {
      const rows = await tx.$queryRawUnsafe<unknown[]>(text, ...values);
      return { rows, rowCount: rows.length };
    },
  } as unknown as Queryable;
}
