import pg from 'pg';
import { isDatabaseUnavailable } from '../common/database-unavailable.js';
import type { Config } from '../config/config.js';

type SessionBounds = Pick<
  Config,
  'databaseLockTimeoutSec' | 'databaseStatementTimeoutSec' | 'databaseIdleInTransactionTimeoutSec' | 'databaseTcpKeepaliveSec'
>;

/** Sets the session bounds (sessionSettings); a NULL leaves a setting at the server's own value. */
export const SESSION_SETTINGS_SQL = `SELECT set_config('idle_in_transaction_session_timeout', $1, false), set_config('lock_timeout', $2, false),
  set_config('statement_timeout', $3, false), set_config('tcp_keepalives_idle', $4, false),
  set_config('tcp_keepalives_interval', $5, false), set_config('tcp_keepalives_count', $6, false),
  set_config('tcp_user_timeout', $7, false)`;

/**
 * The server-side bounds every session of this process runs under: the parameters of SESSION_SETTINGS_SQL (null
 * for a setting that is off, which leaves the server's own value), or null when all are off. They are what
 * releases the locks of a frozen or cut-off peer:
 * - `idle_in_transaction_session_timeout`: a process stopped (SIGSTOP, a debugger, a stalled VM) or cut off while
 *   its transaction is open holds row locks that others skip (SKIP LOCKED) or wait for; PostgreSQL ends that session
 *   after this long, and with it the transaction and its locks. No transaction of Weft waits on anything but its own
 *   statements between BEGIN and COMMIT, so only a stalled process reaches it.
 * - `lock_timeout`: nothing of Weft waits long for a lock on purpose; a statement queued behind a stalled holder fails
 *   (55P03, answered 503 and retried by the caller; a scheduler job on its next tick) instead of holding a pool
 *   connection and its request for as long as the holder lives.
 * - `statement_timeout`: a backstop for a runaway statement.
 * - TCP keepalives and `tcp_user_timeout` (server side; the client side is set on the socket): a peer that vanished
 *   without closing its connection (a partition, a host gone) is noticed, and its session ended, in about twice
 *   the keepalive time instead of the operating system's two hours.
 * Set with set_config on each new connection rather than as startup parameters, so a pooler in session mode (which
 * refuses unknown startup parameters) works.
 */
export function sessionSettings(c: SessionBounds): (string | null)[] | null {
  const ms = (sec: number) => (sec ? String(sec * 1000) : null);
  const keepalive = c.databaseTcpKeepaliveSec;
  const values = [
    ms(c.databaseIdleInTransactionTimeoutSec),
    ms(c.databaseLockTimeoutSec),
    ms(c.databaseStatementTimeoutSec),
    keepalive ? String(keepalive) : null,
    keepalive ? String(Math.max(1, Math.ceil(keepalive / 3))) : null,
    keepalive ? '3' : null,
    keepalive ? String(keepalive * 2 * 1000) : null,
  ];
  return values.some((v) => v !== null) ? values : null;
}

/** Client-side socket options of every connection this process opens (the pool's and the LISTEN connection). */
export function socketOptions(c: Pick<Config, 'databaseConnectTimeoutSec' | 'databaseTcpKeepaliveSec'>): pg.ClientConfig {
  return {
    connectionTimeoutMillis: c.databaseConnectTimeoutSec * 1000,
    ...(c.databaseTcpKeepaliveSec ? { keepAlive: true, keepAliveInitialDelayMillis: c.databaseTcpKeepaliveSec * 1000 } : {}),
  };
}

/**
 * The process's pool: every query of the service runs on it. Every new connection gets the session
 * bounds (sessionSettings) before the pool hands it out (pg-pool's onConnect hook, awaited). A server that refuses
 * them for another reason than being unavailable (say, a setting it does not know) gets a warning through
 * `onSettingsRefused` and the connection is used without them.
 */
export function createPool(url: string, config: Config, onSettingsRefused: (err: Error) => void = () => undefined): pg.Pool {
  const settings = sessionSettings(config);
  // A connect timeout: with the database unreachable, requests fail fast (503) instead of hanging.
  const pool = new pg.Pool({
    connectionString: url,
    max: config.databasePoolSize,
    ...socketOptions(config),
    ...(settings
      ? {
          onConnect: async (client: pg.ClientBase) => {
            try {
              await client.query(SESSION_SETTINGS_SQL, settings);
            } catch (err) {
              if (isDatabaseUnavailable(err)) throw err;
              onSettingsRefused(err as Error);
            }
          },
        }
      : {}),
  });
  // An idle connection dropped by the server must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  // Neither may one dropped while checked out between two statements (pg-pool listens only while a client is
  // idle): the error is kept off the event, the client's next query fails (503) and the pool discards it.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
