#!/usr/bin/env node
// Weft benchmarks: `npm run bench` (full, ~20 min) or `npm run bench -- --quick` (CI smoke, small sizes).
// Builds the service, then for each repetition runs every workload against the BUILT service (dist/) booted in
// a child process on a fresh database (weft_bench_<pid>_<n>, dropped after), and the peer scripts of
// ../shared/peer-bench on the same PostgreSQL. Prints one JSON line per measurement, then a table of medians
// (with ranges over repetitions) next to the targets of issue 10; all lines go to bench/results/results.jsonl.
//
// Options: --quick  --runs=N  --only=scheduler,throughput,footprint,dispatch,hops,chain40,console,peers  --no-peers
//          --scheduler=due,backfill,evaluate,expand,dags,resolve (parts of the scheduler workload; all by default)
//          --configs=single,batch10_next,… (throughput variants)  --tasks=N (throughput size)  --tag=NAME
//          --ref=GITREF (build that commit in a temporary folder instead of the work tree)  --no-build (work tree's dist/ as is)
//          --profile (CPU profile of the service during single-task throughput, summarised by profile-summary.mjs)
//          --drop-event-triggers (diagnostic: the databases without the events-outbox triggers, to tell their cost apart)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/flags.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
// WEFT_BENCH_RESULTS: another folder for results.jsonl, latest.md and profiles (the test suite's smoke run uses one).
const RESULTS = process.env.WEFT_BENCH_RESULTS ? path.resolve(process.env.WEFT_BENCH_RESULTS) : path.join(BENCH, 'results');

const argv = parseFlags();
const quick = Boolean(argv.quick);
const reps = Number(argv.runs ?? (quick ? 1 : 3));
const ALL = ['scheduler', 'throughput', 'footprint', 'dispatch', 'hops', 'chain40', 'console', 'peers'];
const only = new Set(argv.only ? String(argv.only).split(',') : ALL);
if (argv['no-peers']) only.delete('peers');
const tag = String(argv.tag ?? `${quick ? 'quick' : 'full'}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
const sizes = quick
  ? { throughputTasks: 1000, latencyTasks: 50, chains: 10, chains40: 1, tickDags: 50, dueRuns: [200] }
  : { throughputTasks: 20000, latencyTasks: 500, chains: 50, chains40: 10, tickDags: 1000, dueRuns: [1000, 10000] };
if (argv.tasks) sizes.throughputTasks = Number(argv.tasks);
const wall0 = Date.now();
if (argv['drop-event-triggers']) process.env.WEFT_BENCH_DROP_EVENT_TRIGGERS = '1';

// ---- build: the bench measures the built service; see lib/build.mjs ----
const { prepareBuild } = await import('./lib/build.mjs');
const build = prepareBuild(ROOT, { ref: argv.ref === undefined ? undefined : String(argv.ref), build: !argv['no-build'] });
process.env.WEFT_BENCH_BUILD = build.dir;

const { machine } = await import('./lib/proc.mjs');
const db = await import('./lib/db.mjs');
const { tableRows, textTable, markdownTable } = await import('./lib/report.mjs');
const { schedulerWorkload } = await import('./workloads/scheduler.mjs');
const { throughputRun, THROUGHPUT_CONFIGS, FOOTPRINT_CONFIG } = await import('./workloads/throughput.mjs');
const { dispatchLatency, chainLatency } = await import('./workloads/latency.mjs');
const { footprintIdle } = await import('./workloads/footprint.mjs');
const { consoleGrid } = await import('./workloads/console.mjs');
const peers = await import('./workloads/peers.mjs');
const { newestProfile } = await import('./lib/service.mjs');
const { summarizeProfile } = await import('./profile-summary.mjs');

fs.mkdirSync(RESULTS, { recursive: true });
const records = [];
const append = (obj) => fs.appendFileSync(path.join(RESULTS, 'results.jsonl'), JSON.stringify(obj) + '\n');
const ctx = {
  quick,
  sizes,
  schedulerParts: argv.scheduler ? String(argv.scheduler).split(',') : undefined,
  record(obj) {
    const line = { ts: new Date().toISOString(), tag, bench: 'weft', ...obj };
    records.push(line);
    append(line);
    console.log(JSON.stringify(line));
    return line;
  },
};

let cleaning = false;
let peerSteps = []; // the peer scripts this run will run (their databases are dropped at the end)
async function cleanup() {
  if (cleaning) return;
  cleaning = true;
  peers.cleanupPeers();
  build.cleanup();
  await db.dropAll().catch((e) => console.error(`dropping bench databases failed: ${e.message}`));
  if (peerSteps.length) await db.dropDatabases(peers.PEER_DATABASES).catch((e) => console.error(`dropping peer databases failed: ${e.message}`));
}
process.once('SIGINT', () => { console.error('interrupted; dropping bench databases'); void cleanup().finally(() => process.exit(130)); });

const env = { machine: machine(), postgres: await db.serverInfo(), mode: quick ? 'quick' : 'full', reps, sizes, build: build.info };
console.error(`weft bench ${tag}: ${build.info.source} ${build.info.ref ?? ''} ${build.info.commit}${build.info.dirty_src ? ' (src/ has uncommitted changes)' : ''}; ${env.machine.cores} cores, PostgreSQL ${env.postgres.server_version} (fsync=${env.postgres.fsync}, synchronous_commit=${env.postgres.synchronous_commit}, shared_buffers=${env.postgres.shared_buffers}), ${reps} repetition(s)`);
await db.dropStale();

if (only.has('peers')) {
  if (!peers.peersAvailable()) {
    console.error(`peers skipped: ${peers.PEER_DIR} not found`);
  } else {
    let full = !quick;
    if (full && !peers.peerDepsInstalled()) {
      console.error('installing bench/ dependencies for the peers (npm ci --prefix bench)…');
      const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: BENCH, stdio: ['ignore', 'ignore', 'inherit'] });
      if (r.status !== 0) { console.error('npm ci failed: graphile-worker and pg-boss skipped'); full = false; }
    }
    peerSteps = peers.peerPlan(sizes, { full });
    if (quick) console.error('quick mode: peers limited to the HTTP and raw SQL floors');
  }
}

const step = async (name, fn) => {
  const t0 = Date.now();
  try {
    await fn();
  } catch (err) {
    console.error(`${name} failed: ${err.stack ?? err}`);
    ctx.record({ workload: 'error', variant: name, error: String(err.message ?? err) });
  }
  console.error(`  ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
};

try {
  for (let rep = 1; rep <= reps; rep++) {
    console.error(`repetition ${rep}/${reps}`);
    if (only.has('scheduler')) await step('scheduler', () => schedulerWorkload(ctx, rep));
    if (only.has('throughput')) {
      const wanted = argv.configs ? String(argv.configs).split(',') : quick ? ['single', 'batch10_next'] : null;
      const configs = wanted ? THROUGHPUT_CONFIGS.filter((c) => wanted.includes(c.name)) : THROUGHPUT_CONFIGS.filter((c) => !c.optional);
      for (const cfg of configs) await step(`throughput ${cfg.name}`, () => throughputRun(ctx, rep, cfg));
    }
    // Quick mode keeps one variant of each (CI smoke); the complete-and-lease-next latency variants and the
    // 50-long-poller load run are full-mode only.
    if (only.has('footprint')) {
      await step('footprint idle', () => footprintIdle(ctx, rep));
      // A quarter of workload 2's tasks: the peak RSS is reached early, and 50 waiting pollers slow the run down.
      if (!quick) await step('footprint under load', () => throughputRun(ctx, rep, { ...FOOTPRINT_CONFIG, tasks: sizes.throughputTasks / 4 }));
    }
    for (const next of quick ? [false] : [false, true]) {
      const sfx = next ? ' next' : '';
      if (only.has('dispatch')) await step(`dispatch${sfx}`, () => dispatchLatency(ctx, rep, { next }));
      if (only.has('hops')) await step(`hops${sfx}`, () => chainLatency(ctx, rep, { steps: 5, taskMs: 0, chains: sizes.chains, next }));
      if (only.has('chain40')) await step(`chain40${sfx}`, () => chainLatency(ctx, rep, { steps: 40, taskMs: 10, chains: sizes.chains40, next }));
    }
    if (only.has('console')) await step('console grid', () => consoleGrid(ctx, rep));
    for (const p of peerSteps) {
      await step(`peer ${p.id}`, async () => {
        const line = await peers.runPeer(p, { tag, resultsDir: RESULTS });
        if (line) {
          const rec = { ...line, peer_bench: line.bench, workload: 'peer', variant: p.id, rep };
          records.push(rec);
          // The script appended its own line to results.jsonl already.
        }
      });
    }
  }
  if (argv.profile) {
    const dir = path.join(RESULTS, 'profiles', tag);
    await step('profile single-task throughput', async () => {
      const rec = await throughputRun({ ...ctx, record: (o) => o }, 0, THROUGHPUT_CONFIGS[0], { cpuProfDir: dir });
      const file = newestProfile(dir);
      const text = summarizeProfile(file, 25);
      fs.writeFileSync(`${file}.txt`, `${JSON.stringify(rec)}\n\n${text}\n`);
      console.error(`  profiled run: ${rec.tasks_per_s} tasks/s, ${rec.server_cpu_ms_per_task} ms service CPU per task\n${text}`);
    });
  }
} finally {
  await cleanup();
}

const rows = tableRows(records, sizes);
const wallS = Math.round((Date.now() - wall0) / 1000);
const summary = { ts: new Date().toISOString(), tag, bench: 'weft-summary', ...env, wall_s: wallS,
  figures: rows.map(([section, figure, weft, target, peersCol]) => ({ section, figure, weft, target, peers: peersCol })) };
append(summary);
fs.writeFileSync(path.join(RESULTS, 'latest.md'),
  `<!-- ${tag}: ${env.machine.cores} cores (${env.machine.cpu_model}), PostgreSQL ${env.postgres.server_version}, ${reps} repetition(s), ${wallS} s -->\n${markdownTable(rows)}\n`);
console.log(JSON.stringify(summary));
console.log(`\nWeft bench ${tag} — medians over ${reps} repetition(s), (min–max) across them; ratios are per repetition, same PostgreSQL`);
console.log(`machine: ${env.machine.cores} cores, ${env.machine.cpu_model}, ${env.machine.mem_gib} GiB, Node ${env.machine.node}; PostgreSQL ${env.postgres.server_version}: fsync=${env.postgres.fsync} synchronous_commit=${env.postgres.synchronous_commit} shared_buffers=${env.postgres.shared_buffers}`);
console.log(textTable(rows));
const foreign = records.map((r) => r.foreign_cpu_s).filter((x) => typeof x === 'number');
console.log(`\nforeign CPU (other processes on this machine) per measurement: median ${foreign.sort((a, b) => a - b)[foreign.length >> 1] ?? 0} s, max ${Math.max(0, ...foreign)} s`);
console.log(`wall time ${wallS} s; lines appended to ${path.relative(ROOT, path.join(RESULTS, 'results.jsonl'))}; table in ${path.relative(ROOT, path.join(RESULTS, 'latest.md'))}`);
if (records.some((r) => r.workload === 'error')) process.exitCode = 1;
