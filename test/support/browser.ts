import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { waitFor } from './wait.js';

/**
 * Debian's Chromium (`apt-get install chromium`, which .ci/run does), driven by playwright-core: nothing is
 * downloaded. Missing on a developer's machine, the browser tests are skipped with a warning; under CI=true they
 * run regardless and fail loudly.
 */
export const CHROMIUM = process.env.WEFT_CHROMIUM ?? '/usr/bin/chromium';
export const BROWSER_MISSING = !existsSync(CHROMIUM) && !process.env.CI;
if (BROWSER_MISSING) console.warn(`skipping the browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

/** The flags known to work here (no sandbox as root, no background connections on a closed network). */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/** Every console error and uncaught page error of `page`, for the assertion that there were none. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  return errors;
}

const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export type RunningService = { base: string; output: () => string; stop(): Promise<void> };

/** `weft start` (API, scheduler and built-in worker) as its own process on `databaseUrl`, on a free port. */
export async function startService(databaseUrl: string, env: Record<string, string>): Promise<RunningService> {
  const home = await mkdtemp(join(tmpdir(), 'weft-console-home-'));
  const port = await freePort();
  const proc: ChildProcess = spawn(process.execPath, [BIN, 'start'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, WEFT_HOME: home, PORT: String(port), HOST: '127.0.0.1', WEFT_LOG_PRETTY: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/health/ready`).catch(() => null))?.ok, `/health/ready (output: ${output})`, 60_000, 100);
  return {
    base,
    output: () => output,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        // A graceful stop drains first; past 10 s it is killed (the timer must not outlive the test).
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
        clearTimeout(timer);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** A JSON call to the running service with a key (the admin's unless given); throws with the answer on a non-2xx. */
export function keyedApi(base: () => string, defaultKey: string) {
  return async (method: string, path: string, body?: unknown, key = defaultKey): Promise<any> => {
    const res = await fetch(`${base()}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}

/** Where the browser tests save the docs' screenshots: docs/console/ with WEFT_CONSOLE_SCREENSHOTS=1, else nowhere. */
const SHOTS = process.env.WEFT_CONSOLE_SCREENSHOTS ? fileURLToPath(new URL('../../docs/console/', import.meta.url)) : null;

/** Saves the page as docs/console/<name>.png when screenshots are asked for (npm run console:screenshots). */
export async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}
