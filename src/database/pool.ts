import pg from 'pg';
import { isDatabaseUnavailable } from '../common/database-unavailable.js';
import type { Config } from '../config/config.js';

type SessionBounds = Pick<
  Config,
  'databaseLockTimeoutSec' | 'databaseStatementTimeoutSec' | 'databaseIdleInTransactionTimeoutSec' | 'databaseTcpKeepaliveSec'
>;

/**
 * The server-side bounds every session of this process runs under, as one `SET` command (numbers from the validated
 * configuration only), or null when all are off. They are what releases the locks of a frozen or cut-off peer:
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
 * SET rather than startup parameters, so a pooler in session mode (which refuses unknown startup parameters) works.
 */
export function sessionSettings(c: SessionBounds): string | null {
  const settings: [string, number][] = [];
  if (c.databaseIdleInTransactionTimeoutSec) settings.push(['idle_in_transaction_session_timeout', c.databaseIdleInTransactionTimeoutSec * 1000]);
  if (c.databaseLockTimeoutSec) settings.push(['lock_timeout', c.databaseLockTimeoutSec * 1000]);
  if (c.databaseStatementTimeoutSec) settings.push(['statement_timeout', c.databaseStatementTimeoutSec * 1000]);
  if (c.databaseTcpKeepaliveSec) {
    const idle = c.databaseTcpKeepaliveSec;
    settings.push(['tcp_keepalives_idle', idle], ['tcp_keepalives_interval', Math.max(1, Math.ceil(idle / 3))], ['tcp_keepalives_count', 3]);
    settings.push(['tcp_user_timeout', idle * 2 * 1000]);
  }
  if (!settings.length) return null;
  return settings.map(([name, value]) => `SET ${name} = ${Math.trunc(value)}`).join('; ');
}

/** Client-side socket options of every connection this process opens (the pool's and the LISTEN connection). */
export function socketOptions(c: Pick<Config, 'databaseConnectTimeoutSec' | 'databaseTcpKeepaliveSec'>): pg.ClientConfig {
  return {
    connectionTimeoutMillis: c.databaseConnectTimeoutSec * 1000,
    ...(c.databaseTcpKeepaliveSec ? { keepAlive: true, keepAliveInitialDelayMillis: c.databaseTcpKeepaliveSec * 1000 } : {}),
  };
}

/**
 * The process's pool: Prisma's adapter and the hand-written SQL share it. Every new connection gets the session
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
              await client.query(settings);
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
