import pg from 'pg';

/** Injection token of the process's one pg.Pool, shared by Prisma's adapter and the hand-written SQL. */
export const PG_POOL = Symbol('PG_POOL');

export type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * What a transaction that queued tasks may do last, just before its COMMIT, with the tasks it queued per queue
 * (noteQueued): the lease service hands them straight to lease requests waiting in this process (QueueWakeups).
 * It returns what to do once the outcome is known (`committed` false: the COMMIT or anything before it failed).
 */
export type QueuedHandOff = (db: pg.PoolClient, queued: ReadonlyMap<string, number>) => Promise<((committed: boolean) => void) | null>;

/** Per pool (one per app, so several apps in one process stay apart). */
const handOffs = new WeakMap<pg.Pool, QueuedHandOff>();
/** Per open transaction of inTransaction: tasks queued so far per queue, and what callers attached to it. */
type TransactionState = { queued: Map<string, number>; attached: Map<symbol, unknown> };
const openTransactions = new WeakMap<object, TransactionState>();

export function setQueuedHandOff(pool: pg.Pool, handOff: QueuedHandOff | null): void {
  if (handOff) handOffs.set(pool, handOff);
  else handOffs.delete(pool);
}

/** Records that the transaction on `db` queued `n` tasks on `queue` (a no-op outside inTransaction). */
export function noteQueued(db: Queryable, queue: string, n: number): void {
  const queued = openTransactions.get(db)?.queued;
  if (queued && n > 0) queued.set(queue, (queued.get(queue) ?? 0) + n);
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
  const queued = new Map<string, number>();
  openTransactions.set(client, { queued, attached: new Map() });
  let settle: ((committed: boolean) => void) | null = null;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    const handOff = queued.size ? handOffs.get(pool) : undefined;
    if (handOff) settle = await handOff(client, queued);
    await client.query('COMMIT');
    settle?.(true);
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    settle?.(false);
    throw err;
  } finally {
    openTransactions.delete(client);
    client.release();
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
