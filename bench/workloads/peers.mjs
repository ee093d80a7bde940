// Workload 6: the peer scripts of ../shared/peer-bench (HTTP floor, raw SQL floor, graphile-worker, pg-boss),
// run unmodified on the same PostgreSQL in the same bench run. Their folder is read-only and has no
// node_modules, so the scripts are copied into a temporary folder whose node_modules links to bench/'s (the
// pinned peer dependencies) — or, for the floors that need only `pg`, to the repository's own when bench/'s
// are not installed. Each script prints one JSON line, appended to RESULTS_DIR/results.jsonl by the script.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('..', import.meta.url));
const ROOT = path.dirname(BENCH.replace(/\/$/, ''));
export const PEER_DIR = process.env.WEFT_PEER_BENCH_DIR || path.resolve(ROOT, '..', 'shared', 'peer-bench');

/** The fixed databases the peer scripts create (see their sources); run.mjs drops them at the end. */
export const PEER_DATABASES = ['bench_lease', 'bench_raw', 'bench_gw', 'bench_pgboss'];

export function peersAvailable() {
  return fs.existsSync(path.join(PEER_DIR, 'lib.mjs'));
}

export function peerDepsInstalled() {
  return ['graphile-worker', 'pg-boss', 'pg'].every((p) => fs.existsSync(path.join(BENCH, 'node_modules', p, 'package.json')));
}

/** The peer runs of one repetition; `full` adds graphile-worker and pg-boss (they need bench/node_modules). */
export function peerPlan(sizes, { full }) {
  const n = sizes.throughputTasks, l = sizes.latencyTasks, c = sizes.chains, c40 = sizes.chains40;
  const plan = [
    { id: 'floor_throughput', script: 'lease.mjs', args: ['--mode=throughput', '--workers=10', `--jobs=${n}`], port: true },
    { id: 'floor_latency', script: 'lease.mjs', args: ['--mode=latency', `--jobs=${l}`], port: true },
    { id: 'raw_claim_batch1', script: 'raw.mjs', args: ['--mode=claim', '--batch=1', '--clients=10', `--jobs=${n}`] },
  ];
  if (!full) return plan;
  return [
    ...plan,
    { id: 'floor_hops', script: 'lease.mjs', args: ['--mode=chain', `--chains=${c}`], port: true },
    { id: 'floor_chain40', script: 'lease.mjs', args: ['--mode=chain', `--chains=${c40}`, '--steps=40', '--taskMs=10'], port: true },
    { id: 'raw_claim_batch10', script: 'raw.mjs', args: ['--mode=claim', '--batch=10', '--clients=10', `--jobs=${n}`] },
    { id: 'raw_claim_batch100', script: 'raw.mjs', args: ['--mode=claim', '--batch=100', '--clients=10', `--jobs=${n}`] },
    { id: 'raw_notify_latency', script: 'raw.mjs', args: ['--mode=notify-latency', `--jobs=${l}`] },
    { id: 'raw_backfill', script: 'raw.mjs', args: ['--mode=backfill', '--runs=1000', '--tasks=5'] },
    { id: 'gw_throughput', script: 'gw.mjs', args: ['--mode=throughput', `--jobs=${n}`, '--concurrency=10'] },
    { id: 'gw_latency', script: 'gw.mjs', args: ['--mode=latency', `--jobs=${l}`] },
    { id: 'gw_hops', script: 'gw.mjs', args: ['--mode=chain', `--chains=${c}`] },
    { id: 'gw_chain40', script: 'gw.mjs', args: ['--mode=chain', `--chains=${c40}`, '--steps=40', '--taskMs=10'] },
    { id: 'pgboss_throughput', script: 'pgboss.mjs', args: ['--mode=throughput', `--jobs=${n}`, '--lc=1', '--bs=10', '--burst'] },
    { id: 'pgboss_latency', script: 'pgboss.mjs', args: ['--mode=latency', `--jobs=${l}`, '--notify'] },
    { id: 'pgboss_hops', script: 'pgboss.mjs', args: ['--mode=chain', `--chains=${c}`, '--notify'] },
  ];
}

let workDir = null;

/** The temporary copy of the peer scripts (made once per bench run). */
function peerWorkDir() {
  if (workDir) return workDir;
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-bench-peers-'));
  for (const f of fs.readdirSync(PEER_DIR)) if (f.endsWith('.mjs')) fs.copyFileSync(path.join(PEER_DIR, f), path.join(workDir, f));
  const modules = peerDepsInstalled() ? path.join(BENCH, 'node_modules') : path.join(ROOT, 'node_modules');
  fs.symlinkSync(modules, path.join(workDir, 'node_modules'));
  return workDir;
}

export function cleanupPeers() {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  workDir = null;
}

const freePort = () => new Promise((resolve, reject) => {
  const srv = net.createServer().listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  srv.on('error', reject);
});

/** Runs one peer script; resolves with its JSON line (parsed), or null when it failed (reported, not fatal). */
export async function runPeer(step, { tag, resultsDir, timeoutMs = 600_000 }) {
  const dir = peerWorkDir();
  const args = [...step.args, `--tag=${tag}`];
  if (step.port) args.push(`--port=${await freePort()}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(dir, step.script), ...args], {
      cwd: dir, env: { ...process.env, RESULTS_DIR: resultsDir }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').reverse().find((l) => l.startsWith('{'));
      if (code !== 0 || !line) {
        console.error(`peer ${step.id} (${step.script} ${args.join(' ')}) failed with ${code}: ${err.trim().split('\n').slice(-5).join(' | ')}`);
        resolve(null);
        return;
      }
      resolve(JSON.parse(line));
    });
  });
}
