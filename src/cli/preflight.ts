import { closeSync, existsSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/**
 * Checks made before `weft start` creates anything (a database, an admin key): a second start on the same data
 * directory or on a busy port fails with one line saying what is wrong and which setting changes it.
 */
export class PreflightError extends Error {}

/** Resolves when `port` can be bound on `host`; otherwise a PreflightError naming `setting`. */
export async function assertPortFree(host: string, port: number, setting: string): Promise<void> {
  if (port === 0) return;
  const error = await tryListen(host, port);
  if (!error) return;
  if (error.code === 'EADDRINUSE') {
    throw new PreflightError(`port ${port} on ${host} is already in use by another process: stop it, or set ${setting} to a free port`);
  }
  if (error.code === 'EACCES') throw new PreflightError(`not allowed to listen on port ${port} on ${host}: set ${setting} to a port above 1023`);
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    throw new PreflightError(`cannot listen on ${host}: it is not an address of this machine (HOST)`);
  }
  throw new PreflightError(`cannot listen on ${host}:${port}: ${error.message}`);
}

function tryListen(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/** A free TCP port on the loopback interface, as the operating system hands it out. */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export const DEFAULT_EMBEDDED_PG_PORT = 54329;

/** WEFT_EMBEDDED_PG_PORT, when set, must be free: a PreflightError naming it otherwise. */
export async function assertEmbeddedPgPortFree(port: number): Promise<void> {
  if (await tryListen('127.0.0.1', port)) {
    throw new PreflightError(
      `WEFT_EMBEDDED_PG_PORT=${port} is already in use by another process: set another port, or unset WEFT_EMBEDDED_PG_PORT to let Weft pick a free one`,
    );
  }
}

/**
 * The port of the embedded PostgreSQL. Set (WEFT_EMBEDDED_PG_PORT): that one, or an error when it is taken. Unset: the
 * port remembered in `WEFT_HOME/embedded-pg-port`, else 54329; when that is taken (another Weft on the machine), a
 * free one, remembered for the next start. Only the data directory's own process uses this server, and the URL is
 * made anew at each start, so moving it is harmless; remembering it keeps `psql -p` stable for the user.
 */
export async function chooseEmbeddedPgPort(home: string, configured: number | undefined, log: (msg: string) => void): Promise<number> {
  if (configured !== undefined) {
    await assertEmbeddedPgPortFree(configured);
    return configured;
  }
  const file = join(home, 'embedded-pg-port');
  const remembered = existsSync(file) ? Number((await readFile(file, 'utf8')).trim()) : undefined;
  const wanted = remembered && Number.isInteger(remembered) && remembered > 0 && remembered < 65536 ? remembered : DEFAULT_EMBEDDED_PG_PORT;
  let port = wanted;
  if (await tryListen('127.0.0.1', wanted)) {
    port = await freeLoopbackPort();
    log(`port ${wanted} for the embedded PostgreSQL is taken; using ${port} (remembered in ${file}; WEFT_EMBEDDED_PG_PORT sets it)`);
  }
  if (port !== remembered) await writeFile(file, `${port}\n`);
  return port;
}

/**
 * One process per data directory while it runs the embedded database: `WEFT_HOME/weft.pid` holds the PID of the
 * process that owns it, created exclusively, removed at exit. A file left by a process that is gone (killed, the
 * machine restarted) is taken over. Only Weft's own processes count: after a reboot the PID may belong to anything.
 */
export class DataDirLock {
  private constructor(private readonly file: string) {}

  /** Throws a PreflightError naming the PID when another live Weft process holds `home`; creates nothing. */
  static assertFree(home: string): void {
    const holder = livingHolder(join(resolve(home), 'weft.pid'));
    if (holder !== undefined) throw inUse(home, holder);
  }

  /** Takes the lock (creating `home`), or throws a PreflightError naming the holder's PID. */
  static acquire(home: string): DataDirLock {
    const dir = resolve(home);
    const file = join(dir, 'weft.pid');
    mkdirSync(dir, { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx', 0o644);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        const lock = new DataDirLock(file);
        process.once('exit', () => lock.release());
        return lock;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = livingHolder(file);
        if (holder !== undefined) throw inUse(home, holder);
        // Left by a process that is gone: take it over (one retry; a racing start that wins is reported above).
        unlinkSync(file);
      }
    }
    throw new PreflightError(`could not lock the data directory ${dir}: another Weft process is starting there`);
  }

  release(): void {
    try {
      if (readFileSync(this.file, 'utf8').trim() === String(process.pid)) unlinkSync(this.file);
    } catch {
      // Already gone.
    }
  }
}

function inUse(home: string, pid: number): PreflightError {
  return new PreflightError(
    `the data directory ${resolve(home)} is in use by another Weft process (PID ${pid}): stop it first, or set WEFT_HOME to another directory`,
  );
}

/** The PID in `file` when that process is alive and is a Weft process (as far as this platform can tell). */
function livingHolder(file: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
  }
  try {
    // Linux: a recycled PID of an unrelated process does not hold the directory.
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('weft')) return undefined;
  } catch {
    // No /proc (macOS): trust the PID.
  }
  return pid;
}
