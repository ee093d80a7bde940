import pg from 'pg';

/** Injection token of the process's one pg.Pool, shared by Prisma's adapter and the hand-written SQL. */
export const PG_POOL = Symbol('PG_POOL');

export type Queryable = Pick<pg.PoolClient, 'query'>;

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
