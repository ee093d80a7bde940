/**
 * Whether an error means "the database cannot do this right now" (refused, dropped, shut down, pool timed out,
 * read-only during a failover, a lock or statement timeout) rather than a bug or bad input. This is the one place
 * that decides it: the HTTP and GraphQL edges answer such errors with 503 (and Retry-After) instead of 500, the
 * scheduler counts the tick as failed and tries again on the next one, a connection that failed this way is not
 * reused (Transactions.run), and the service recovers by itself once PostgreSQL is back (the pool opens new connections).
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as {
    code?: unknown;
    kind?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
    thrownValue?: unknown;
    meta?: { driverAdapterError?: unknown };
  };
  if (typeof e.code === 'string' && (SOCKET_CODES.has(e.code) || PRISMA_CODES.has(e.code) || isUnavailableSqlState(e.code))) return true;
  if (typeof e.kind === 'string' && ADAPTER_KINDS.has(e.kind)) return true;
  if (typeof e.message === 'string' && MESSAGES.some((m) => (e.message as string).includes(m))) return true;
  // thrownValue: graphql-js wraps a thrown value that is not an Error of its own realm (NonErrorThrown).
  const nested = [e.cause, e.meta?.driverAdapterError, e.thrownValue, ...(Array.isArray(e.errors) ? e.errors : [])];
  return nested.some((n) => isDatabaseUnavailable(n, depth + 1));
}

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Prisma's codes for an unreachable server, a closed connection, a socket or pool timeout, too many connections. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);

/** Driver-adapter error kinds (Prisma's adapter-pg) for the same conditions. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/** node-postgres says these in words only. */
const MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
];

/**
 * SQLSTATE class 08 (connection exception), and:
 * 57P01–57P03 server shutting down or starting; 53300 too many connections;
 * 25006 read_only_sql_transaction: a primary being demoted, a standby promoted late, a database set read-only
 *   (a failover in progress): writes fail until a writable primary is back;
 * 55P03 lock_not_available (lock_timeout), 57014 query_canceled (statement_timeout), 25P03 the session was idle in
 *   a transaction too long (idle_in_transaction_session_timeout), 40P01 deadlock, 40001 serialization failure:
 *   nothing was written, and the same request again may succeed.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '25006', '55P03', '57014', '25P03', '40P01', '40001']);

function isUnavailableSqlState(code: string): boolean {
  return /^08[0-9A-Z]{3}$/.test(code) || UNAVAILABLE_SQLSTATES.has(code);
}
