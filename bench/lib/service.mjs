// Starts the Weft service (service-main.mjs) in a child process on a given database and talks to it over IPC.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { procCpuS, rssMb } from './proc.mjs';

const MAIN = fileURLToPath(new URL('../service-main.mjs', import.meta.url));

/**
 * @param {string} databaseUrl
 * @param {{ env?: Record<string,string>, cpuProfDir?: string }} opts  env: extra WEFT_* settings;
 *   cpuProfDir: run under --cpu-prof and write the profile there on close.
 */
export async function startService(databaseUrl, opts = {}) {
  try {
    return await start(databaseUrl, opts);
  } catch (err) {
    // A boot can fail for reasons outside the code under test (say, too many connections for a moment). Once more.
    console.error(`service did not start (${err.message}); retrying in 5 s`);
    await new Promise((r) => setTimeout(r, 5000));
    return start(databaseUrl, opts);
  }
}

async function start(databaseUrl, opts) {
  // WEFT_BENCH_NODE_ARGS: extra Node/V8 flags for the service process (experiments, e.g. heap settings).
  const execArgv = (process.env.WEFT_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  if (opts.cpuProfDir) {
    fs.mkdirSync(opts.cpuProfDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`);
  }
  const t0 = performance.now();
  const child = fork(MAIN, [], {
    execArgv,
    env: { ...process.env, DATABASE_URL: databaseUrl, WEFT_BENCH_ENV: JSON.stringify(opts.env ?? {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`service exited with ${code} before it was ready`));
    child.once('exit', onExit);
    child.on('message', function ready(m) {
      if (!m?.ready) return;
      child.off('message', ready);
      child.off('exit', onExit);
      resolve(m.port);
    });
  });
  const bootMs = performance.now() - t0;
  let nextId = 0;
  const pending = new Map();
  child.on('message', (m) => {
    const p = pending.get(m?.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`service: ${m.error}`));
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`service exited with ${code}`));
    pending.clear();
  });
  const call = (cmd, args) => new Promise((resolve, reject) => {
    const id = ++nextId;
    pending.set(id, { resolve, reject });
    child.send({ id, cmd, args });
  });
  return {
    pid: child.pid,
    url: `http://127.0.0.1:${port}`,
    bootMs,
    call,
    /** CPU time of the service process (µs, from process.cpuUsage inside it). */
    cpuUs: async () => { const c = await call('cpu'); return c.user + c.system; },
    cpuS: () => procCpuS(child.pid),
    rssMb: () => rssMb(child.pid),
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      await call('close').catch(() => undefined);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The newest .cpuprofile in a directory (written by --cpu-prof when the service exits). */
export function newestProfile(dir) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f));
  return files.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
}
