import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/pg-admin.js';
import { sample } from '../support/metrics.js';
import { waitFor } from '../support/wait.js';

/** A secrets key for the processes this file starts (32 bytes, base64), as the test apps have. */
const TEST_SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');

const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

let proc: ChildProcess | undefined;
/** A weft process this file started that is not its own child (the npm-script test's): ended by PID if still alive. */
let orphanPid: number | undefined;
let db: TestDatabase | undefined;
afterAll(async () => {
  proc?.kill('SIGKILL');
  if (orphanPid) {
    try {
      process.kill(orphanPid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await db?.drop();
});

/** The environment of a `weft` process of these tests: this file's database, no auth, plain JSON logs, and `extra`. */
function cliEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: db!.url,
    HOST: '127.0.0.1',
    WEFT_AUTH: 'off',
    // Its own secrets key: without one the process would create <WEFT_HOME>/secrets.key on this machine.
    WEFT_SECRETS_KEY: TEST_SECRETS_KEY,
    WEFT_LOG_PRETTY: 'false',
    ...extra,
  };
}

describe('the CLI roles on SIGTERM', () => {
  it('turns readiness red, answers a waiting long poll empty, refuses new ones and exits 0 within the grace', async () => {
    db = await createTestDatabase();
    const port = await freePort();
    const graceSec = 10;
    const env = cliEnv({
      PORT: String(port),
      WEFT_LOG_LEVEL: 'info',
      WEFT_SHUTDOWN_GRACE_SEC: String(graceSec),
      WEFT_SHUTDOWN_READINESS_DELAY_SEC: '1',
    });
    proc = spawn(process.execPath, [BIN, 'api'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => proc!.once('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/health/ready`).catch(() => null))?.ok, `/health/ready (output: ${output})`, 60_000, 100);

    const lease = (waitSeconds: number) =>
      fetch(`${base}/api/v1/workers/w1/lease`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ queues: ['nothing_here'], waitSeconds }),
      });
    const polling = lease(30);
    const inFlight = async () => sample(await (await fetch(`${base}/metrics`)).text(), 'weft_http_requests_in_flight') ?? 0;
    // The scrape itself is one request in flight; the poll is the other.
    await waitFor(async () => (await inFlight()) >= 2, 'the long poll to be in flight');
    // In flight is only HTTP: signalled now, the poll could still be in its first steps and return at the drain
    // check that precedes its wait, leaving the drain's wake-up of a waiting poll untested. So, from the database:
    // the poll was recorded, the process listens for queued work, and no statement of the process is running (its
    // first claim has answered): what is left is the wait.
    const probe = new pg.Client({ connectionString: db.url });
    await probe.connect();
    try {
      await waitFor(async () => {
        const polled = (await probe.query(`SELECT 1 FROM workers WHERE id = 'w1'`)).rowCount === 1;
        const { rows } = await probe.query<{ listening: number; busy: number }>(
          `SELECT count(*) FILTER (WHERE query ILIKE 'LISTEN%')::int AS listening,
                  count(*) FILTER (WHERE state = 'active' AND query NOT ILIKE 'LISTEN%')::int AS busy
             FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
        );
        return polled && rows[0]!.listening > 0 && rows[0]!.busy === 0;
      }, 'the long poll to be waiting');
    } finally {
      await probe.end();
    }

    let exitedYet = false;
    void exited.then(() => (exitedYet = true));
    const signalledAt = Date.now();
    proc.kill('SIGTERM');
    const answer = await polling;
    const answeredMs = Date.now() - signalledAt;
    console.log(`waiting long poll answered ${answeredMs} ms after SIGTERM`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ leases: [] });
    // Answered by the drain, not by its own 30 s wait: the drain answers it while the process still serves (it then
    // waits at least the 1 s readiness delay, checked below), whereas an unanswered poll would hold the process
    // until the grace (10 s, exit 1) and die with it. Events, not a clock: the answer came before the exit, and
    // the process still answers afterwards (readiness red, new polls refused).
    expect(exitedYet).toBe(false);

    // During the readiness delay the process still answers: readiness is red and no new long poll is taken.
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'unavailable', error: 'shutting down' });
    const refused = await lease(30);
    expect(refused.status).toBe(503);

    // Within the grace: past it the process's own timer exits 1 saying so (src/cli/main.ts forceExit), so exit 0
    // and no such line are the server's own evidence, whatever the machine's speed.
    expect(await exited).toBe(0);
    const tookMs = Date.now() - signalledAt;
    console.log(`exited ${tookMs} ms after SIGTERM (grace ${graceSec} s)`);
    expect(output).not.toMatch(/shutdown took longer than WEFT_SHUTDOWN_GRACE_SEC/);
    // A lower bound (the readiness delay is waited out), which slowness cannot break.
    expect(tookMs).toBeGreaterThanOrEqual(1000);
    expect(output).toMatch(/shutting down: draining/);
    expect(output).toMatch(/"msg":"stopped"/);
    proc = undefined;
  });

  it('weft scheduler serves health and metrics on WEFT_SCHEDULER_HTTP_PORT and stops between ticks with exit 0', async () => {
    const port = await freePort();
    const env = cliEnv({ WEFT_SCHEDULER_HTTP_PORT: String(port), WEFT_SCHEDULER_TICK_MS: '100' });
    proc = spawn(process.execPath, [BIN, 'scheduler'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => proc!.once('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/health/ready`).catch(() => null))?.ok, `scheduler /health/ready (output: ${output})`, 60_000, 100);
    await waitFor(
      async () => (sample(await (await fetch(`${base}/metrics`)).text(), 'weft_scheduler_tick_duration_seconds_count') ?? 0) >= 3,
      'scheduler ticks in its metrics',
    );
    expect((await fetch(`${base}/api/v1/dags`)).status).toBe(404);

    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/"msg":"stopped"/);
    proc = undefined;
  });

  it('started by an npm script, drains when the script shell that started it dies (npm stopped with SIGTERM)', async () => {
    // What `npm start` runs: npm -> `sh -c '<script>'` -> node. npm passes SIGTERM to the shell, which dies without
    // passing it on; killing the shell is that, without npm in between.
    db ??= await createTestDatabase();
    const port = await freePort();
    const env = cliEnv({ npm_lifecycle_event: 'start', PORT: String(port), WEFT_LOG_LEVEL: 'info', WEFT_SHUTDOWN_READINESS_DELAY_SEC: '0' });
    // `; true` keeps the shell waiting for node instead of replacing itself with it, as npm's shell does.
    proc = spawn('/bin/sh', ['-c', `"${process.execPath}" "${BIN}" api; true`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    // The pipes close once every process holding them (the shell and node) has exited.
    const closed = new Promise<void>((resolve) => proc!.stdout!.once('close', () => resolve()));
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/health/ready`).catch(() => null))?.ok, `/health/ready (output: ${output})`, 60_000, 100);
    orphanPid = Number(execFileSync('pgrep', ['-P', String(proc.pid)], { encoding: 'utf8' }).trim().split('\n')[0]);
    expect(orphanPid).toBeGreaterThan(0);

    proc.kill('SIGKILL');
    await closed;
    expect(output).toMatch(/shutting down: draining/);
    expect(output).toMatch(/the npm script that started it ended/);
    expect(output).toMatch(/"msg":"stopped"/);
    expect(output).not.toMatch(/shutdown took longer than WEFT_SHUTDOWN_GRACE_SEC/);
    expect((await fetch(`${base}/health`).catch(() => null))?.ok ?? false).toBe(false);
    orphanPid = undefined;
    proc = undefined;
  });
});
