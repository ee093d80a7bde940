import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import pg from 'pg';
import { waitFor } from '../support/wait.js';
import { testContext } from '../../src/worker/executors/executor-testing.js';
import { connectionEnvKey, DEFAULT_SQL_CONNECT_TIMEOUT_MS, SqlExecutor } from '../../src/worker/executors/sql.executor.js';

const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const schema = `weft_exec_test_${process.pid}_${randomBytes(4).toString('hex')}`;
/** The same server with a password in the URL, to prove it never shows (a trust-auth server ignores it). */
const urlWithPassword = (() => {
  const url = new URL(databaseUrl);
  if (!url.password) url.password = 'hunter2-secret';
  return url.toString();
})();
const password = decodeURIComponent(new URL(urlWithPassword).password);

let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`CREATE TABLE ${schema}.items (id int PRIMARY KEY, name text NOT NULL, due date, seen timestamp, payload jsonb, raw bytea, big bigint)`);
  await admin.query(
    `INSERT INTO ${schema}.items VALUES (1, 'one', '2024-01-15', '2024-01-15 06:00:00', '{"a": [1]}', '\\xdeadbeef', 9007199254740993),
                                         (2, 'two', NULL, NULL, NULL, NULL, NULL)`,
  );
});

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

describe(SqlExecutor.name, () => {
  const sut = new SqlExecutor({ connEnv: { [connectionEnvKey('warehouse-db')]: urlWithPassword, WEFT_CONN_NOT_PG: 'mysql://x/y' } });

  it('pushes the rows of the query as return_value, with its rowCount, never logging the password', async () => {
    const { ctx, logged } = testContext();
    const result = await sut.execute({ sql: `SELECT * FROM ${schema}.items ORDER BY id`, connection: urlWithPassword }, ctx);
    expect(result).toEqual({
      status: 'success',
      xcom: {
        return_value: [
          { id: 1, name: 'one', due: '2024-01-15', seen: '2024-01-15 06:00:00', payload: { a: [1] }, raw: '\\xdeadbeef', big: '9007199254740993' },
          { id: 2, name: 'two', due: null, seen: null, payload: null, raw: null, big: null },
        ],
        rowCount: 2,
      },
    });
    expect(logged.map((l) => l.line)).toEqual([
      expect.stringMatching(/^connecting to postgres(ql)?:\/\/[^:@]*@?[^@]+\/\w+$/),
      `running SQL: SELECT * FROM ${schema}.items ORDER BY id`,
      expect.stringMatching(/^SELECT: 2 rows returned, row count 2 \(\d+ ms\)$/),
    ]);
    expect(JSON.stringify(logged)).not.toContain(password);
  });

  it('runs several statements and pushes what the last one returned', async () => {
    const { ctx } = testContext();
    const sql = 'CREATE TEMP TABLE t (x int); INSERT INTO t VALUES (1), (2), (3); UPDATE t SET x = x + 1 WHERE x > 1';
    expect(await sut.execute({ sql, connection: databaseUrl }, ctx)).toEqual({ status: 'success', xcom: { return_value: [], rowCount: 2 } });
  });

  it('resolves a connection id from WEFT_CONN_<ID> in the env map it was given', async () => {
    const { ctx } = testContext();
    expect(await sut.execute({ sql: 'SELECT 1 AS one', connection: 'warehouse-db' }, ctx)).toEqual({
      status: 'success',
      xcom: { return_value: [{ one: 1 }], rowCount: 1 },
    });
  });

  it.each([
    [undefined, 'sql task has no connection: give a connection id (read from WEFT_CONN_<ID> on the worker) or a postgres:// URL'],
    ['missing.conn', 'connection "missing.conn" is not defined: set WEFT_CONN_MISSING_CONN on the worker'],
    ['not-pg', 'WEFT_CONN_NOT_PG must be a postgres:// or postgresql:// URL'],
  ])('fails, not retryable, on connection %p', async (connection, error) => {
    const { ctx } = testContext();
    expect(await sut.execute({ sql: 'SELECT 1', connection }, ctx)).toEqual({ status: 'failed', error, retryable: false });
  });

  it('fails, not retryable, on a syntax error, with the PostgreSQL message and code', async () => {
    const { ctx } = testContext();
    expect(await sut.execute({ sql: 'SELEC 1', connection: databaseUrl }, ctx)).toEqual({
      status: 'failed',
      error: 'syntax error at or near "SELEC" (SQLSTATE 42601); at character 1',
      retryable: false,
    });
  });

  it('fails, not retryable, on a constraint violation', async () => {
    const { ctx } = testContext();
    expect(await sut.execute({ sql: `INSERT INTO ${schema}.items (id, name) VALUES (1, 'again')`, connection: databaseUrl }, ctx)).toEqual({
      status: 'failed',
      error: 'duplicate key value violates unique constraint "items_pkey" (SQLSTATE 23505); detail: Key (id)=(1) already exists.',
      retryable: false,
    });
  });

  it('fails, retryable, when the server cannot be reached, without showing the password', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const { ctx, logged } = testContext();
    const result = await sut.execute({ sql: 'SELECT 1', connection: `postgresql://svc:hunter2-secret@127.0.0.1:${port}/db` }, ctx);
    expect(result).toEqual({ status: 'failed', error: `postgresql://svc@127.0.0.1:${port}/db: connect ECONNREFUSED 127.0.0.1:${port}`, retryable: true });
    expect(JSON.stringify([result, logged])).not.toContain('hunter2');
  });

  it('fails, not retryable, when the rows are over the XCom limit', async () => {
    const { ctx } = testContext({ limits: { maxXcomBytes: 1000 } });
    expect(await sut.execute({ sql: "SELECT repeat('x', 2000) AS big", connection: databaseUrl }, ctx)).toEqual({
      status: 'failed',
      error: 'the result of the last statement is 2042 bytes as XCom, over the limit of 1000 bytes',
      retryable: false,
    });
  });

  it('cancels the running statement on the server when the signal aborts', async () => {
    const marker = `weft-abort-${randomBytes(4).toString('hex')}`;
    const SLEEP_MS = 30_000;
    const sql = `SELECT pg_sleep(${SLEEP_MS / 1000}) /* ${marker} */`;
    const running = (): Promise<number> =>
      admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query = $1`, [sql]).then((r) => r.rows[0]!.n);
    const { ctx, controller } = testContext();
    // The statement cannot end by itself before SLEEP_MS from here: the bounds below are against that, not a guess
    // at this machine's speed (with a second to spare for the check itself).
    const calledAt = Date.now();
    const beforeItsEnd = () => calledAt + SLEEP_MS - 1000 - Date.now();
    const result = sut.execute({ sql, connection: databaseUrl }, ctx);
    await waitFor(async () => (await running()) === 1, 'pg_sleep to run');
    const started = Date.now();
    controller.abort('execution_timeout');
    expect(await result).toEqual({ status: 'failed', error: 'cancelled: execution_timeout', retryable: true });
    console.log(`the executor answered ${Date.now() - started} ms after the abort`);
    // Answered at the abort, not when the statement ended by itself,
    expect(beforeItsEnd()).toBeGreaterThan(0);
    // and the statement was cancelled on the server, not left to run its course.
    await waitFor(async () => (await running()) === 0, 'pg_sleep to stop', Math.max(0, beforeItsEnd()));
    console.log(`pg_sleep stopped on the server ${Date.now() - started} ms after the abort`);
  });

  it('gives up connecting when the signal aborts', async () => {
    // Accepts TCP connections and never answers the startup message.
    const sockets: Socket[] = [];
    let hungUp = 0;
    const silent = createServer((socket) => {
      sockets.push(socket);
      socket.on('end', () => (hungUp += 1)).resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { ctx, controller } = testContext();
      // Without the abort the attempt ends at the connect timeout from here: the bounds below are against that, not a
      // guess at this machine's speed (with a second to spare for the check itself).
      const calledAt = Date.now();
      const beforeTimeout = () => calledAt + DEFAULT_SQL_CONNECT_TIMEOUT_MS - 1000 - Date.now();
      const result = sut.execute({ sql: 'SELECT 1', connection: `postgresql://svc@127.0.0.1:${(silent.address() as AddressInfo).port}/db` }, ctx);
      await waitFor(async () => sockets.length > 0, 'the connection attempt');
      const started = Date.now();
      controller.abort('shutdown');
      expect(await result).toEqual({ status: 'failed', error: 'cancelled: shutdown', retryable: true });
      console.log(`the executor answered ${Date.now() - started} ms after the abort`);
      expect(beforeTimeout()).toBeGreaterThan(0);
      await waitFor(async () => hungUp === sockets.length, 'the client to hang up', Math.max(0, beforeTimeout()));
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('leaves no connection open behind it', async () => {
    await waitFor(
      async () => (await admin.query(`SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'weft-worker%'`)).rowCount === 0,
      'worker connections to close',
      2000,
    );
  });
});
