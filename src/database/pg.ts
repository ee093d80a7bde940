import pg from 'pg';

/** Injection token of the process's one pg.Pool, which every query of the service runs on. */
export const PG_POOL = Symbol('PG_POOL');

export type Queryable = Pick<pg.PoolClient, 'query'>;

/** PostgreSQL error code of a failed query (e.g. 23505 unique violation), if any. */
export function pgErrorCode(err: unknown): string | undefined {
  return (err as { code?: string })?.code;
}
