import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../support/wait.js';

/**
 * The first run and the next ones as a new user sees them (issue 19): a short banner with the key only the first
 * time, framework noise at debug, a second start on the same data directory or on a busy port refused with one line
 * before anything is created, and an embedded-database port that moves out of the way of another Weft.
 */
const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

function listen(port = 0): Promise<Server> {
  return new Promise((resolve) => {
    const srv = createServer().listen(port, '127.0.0.1', () => resolve(srv));
  });
}
const portOf = (srv: Server) => (srv.address() as { port: number }).port;
async function freePort(): Promise<number> {
  const srv = await listen();
  const port = portOf(srv);
  await new Promise((r) => srv.close(r));
  return port;
}

type Proc = { child: ChildProcess; output: () => string; exited: Promise<number | null> };
const started: ChildProcess[] = [];
const dirs: string[] = [];
const servers: Server[] = [];

function weft(env: Record<string, string>, ...args: string[]): Proc {
  const full: NodeJS.ProcessEnv = { ...process.env, WEFT_LOG_PRETTY: 'true', ...env };
  for (const v of ['DATABASE_URL', 'WEFT_ADMIN_API_KEY', 'WEFT_EMBEDDED_PG_PORT', 'HOST']) if (!(v in env)) delete full[v];
  const child = spawn(process.execPath, [BIN, ...(args.length ? args : ['start'])], { env: full, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-first-run-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  // SIGTERM: the process stops its embedded PostgreSQL too (SIGKILL would leave that running).
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await Promise.all(started.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  for (const s of servers) s.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Waits for the banner's last line; fails at once, with the output, if the process exits first. */
async function banner(proc: Proc): Promise<void> {
  const exited = proc.exited.then((code) => Promise.reject(new Error(`weft exited (${code}) before its banner: ${proc.output()}`)));
  exited.catch(() => undefined);
  await Promise.race([waitFor(async () => /Admin key.*\n(.*shown this once.*\n)?\n/.test(proc.output()), 'the banner', 240_000, 100), exited]);
}

/** The non-empty lines of an output. */
const lines = (text: string) => text.split('\n').filter((l) => l.trim());

describe('weft start: first run, banner and refusals', () => {
  it('prints a short banner with the key once, refuses a second start with one line, and moves the database port out of the way', async () => {
    const home = await tempDir();
    const port = await freePort();
    // Another "Weft" holds the port this data directory remembers for its database: start-up picks a free one.
    const busy = await listen();
    servers.push(busy);
    writeFileSync(join(home, 'embedded-pg-port'), `${portOf(busy)}\n`);

    const first = weft({ WEFT_HOME: home, PORT: String(port) });
    await banner(first);
    const key = readFileSync(join(home, 'admin-api-key'), 'utf8').trim();
    const out = first.output();
    expect(out).toContain(key);
    expect(out).toMatch(/shown this once/);
    expect(out).toContain(`http://127.0.0.1:${port}/docs`);
    expect(out).toMatch(new RegExp(`Console +http://127\\.0\\.0\\.1:${port}/\n`));
    expect(out).toContain(`http://127.0.0.1:${port}/graphql`);
    expect(out).toMatch(new RegExp(`listening on 127\\.0\\.0\\.1:${port}`));
    expect(out).not.toMatch(/Mapped \{|dependencies initialized|applied migration/);
    expect(lines(out).length).toBeLessThan(25);
    const pgPort = Number(readFileSync(join(home, 'embedded-pg-port'), 'utf8'));
    expect(pgPort).not.toBe(portOf(busy));
    expect(out).toContain(`embedded PostgreSQL on 127.0.0.1:${pgPort}`);
    // The banner is the last thing written at start-up.
    expect(out.trimEnd().split('\n').at(-1)).toMatch(/shown this once/);
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/dags`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    // The URLs of the banner answer (the docs UI is served by @fastify/static, pinned for Node 20).
    const docs = await fetch(`http://127.0.0.1:${port}/docs`);
    expect([docs.status, docs.headers.get('content-type')]).toEqual([200, expect.stringMatching(/text\/html/)]);
    expect((await fetch(`http://127.0.0.1:${port}/docs/swagger-ui.css`)).status).toBe(200);

    // The same data directory, another port: one line naming the PID, exit 1.
    const second = weft({ WEFT_HOME: home, PORT: String(await freePort()) });
    expect(await second.exited).toBe(1);
    expect(lines(second.output())).toEqual([
      `weft: the data directory ${home} is in use by another Weft process (PID ${first.child.pid}): stop it first, or set WEFT_HOME to another directory`,
    ]);

    // The same port, a new data directory: one line naming PORT, and the directory is not even created.
    const otherHome = join(await tempDir(), 'home');
    const third = weft({ WEFT_HOME: otherHome, PORT: String(port) });
    expect(await third.exited).toBe(1);
    expect(lines(third.output())).toEqual([`weft: port ${port} on 127.0.0.1 is already in use by another process: stop it, or set PORT to a free port`]);
    expect(existsSync(otherHome)).toBe(false);

    // An explicit database port that is taken: one line naming the setting; no database, no key.
    const fourth = weft({ WEFT_HOME: otherHome, PORT: String(await freePort()), WEFT_EMBEDDED_PG_PORT: String(portOf(busy)) });
    expect(await fourth.exited).toBe(1);
    expect(lines(fourth.output())).toEqual([
      `weft: WEFT_EMBEDDED_PG_PORT=${portOf(busy)} is already in use by another process: set another port, or unset WEFT_EMBEDDED_PG_PORT to let Weft pick a free one`,
    ]);
    expect(existsSync(otherHome)).toBe(false);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(existsSync(join(home, 'weft.pid'))).toBe(false);

    // A lock left by a process that is gone (killed, a reboot) is taken over. The restart says where the key is.
    writeFileSync(join(home, 'weft.pid'), '2147483646\n');
    const again = weft({ WEFT_HOME: home, PORT: String(port) });
    await banner(again);
    expect(again.output()).not.toContain(key);
    expect(again.output()).toMatch(new RegExp(`Admin key +in ${join(home, 'admin-api-key').replace(/[.]/g, '\\.')}`));
    expect(Number(readFileSync(join(home, 'embedded-pg-port'), 'utf8'))).toBe(pgPort);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    // Two starts of a service with its own database: minutes on a loaded machine, bounded by the waits above.
  }, 300_000);
});
