// Prints the table of an earlier bench run from bench/results/results.jsonl, as markdown (for docs/performance.md).
// A run that was interrupted before its summary line is rebuilt from its measurement lines.
//   node bench/report.mjs [TAG]     (default: the latest run)
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { markdownTable, tableRows } from './lib/report.mjs';

const file = fileURLToPath(new URL('./results/results.jsonl', import.meta.url));
const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const tag = process.argv[2] ?? lines.at(-1)?.tag;
const s = lines.findLast((x) => x.tag === tag && x.bench === 'weft-summary');
if (s) {
  const b = s.build ?? {};
  console.log(`Run \`${s.tag}\` (${s.ts}): ${s.mode}, ${s.reps} repetition(s), ${s.wall_s} s; built from ${b.source ?? '?'} ${b.ref ?? ''} ${b.commit ?? ''}${b.dirty_src ? ' (uncommitted changes in src/)' : ''}.`);
  console.log(`Machine: ${s.machine.cores} cores (${s.machine.cpu_model}), ${s.machine.mem_gib} GiB, Linux ${s.machine.kernel}, Node ${s.machine.node}. ` +
    `PostgreSQL ${s.postgres.server_version}: fsync=${s.postgres.fsync}, synchronous_commit=${s.postgres.synchronous_commit}, ` +
    `shared_buffers=${s.postgres.shared_buffers}, wal_level=${s.postgres.wal_level}, full_page_writes=${s.postgres.full_page_writes}, ` +
    `max_wal_size=${s.postgres.max_wal_size}MB, work_mem=${s.postgres.work_mem}, max_connections=${s.postgres.max_connections}.\n`);
  console.log(markdownTable(s.figures.map((f) => [f.section, f.figure, f.weft, f.target, f.peers])));
} else {
  // Interrupted run: Weft's lines carry workload/variant/rep; the peer scripts' lines are matched to their step by
  // what they measured, and numbered in order of appearance.
  const run = lines.filter((x) => x.tag === tag);
  if (!run.length) { console.error(`no lines for ${tag} in ${file}`); process.exit(1); }
  const peerId = (x) => {
    const steps = x.steps === 40 ? 'chain40' : 'hops';
    switch (x.bench) {
      case 'http-lease-floor': return x.mode === 'chain' ? `floor_${steps}` : `floor_${x.mode}`;
      case 'raw-claim': return `raw_claim_batch${x.batch}`;
      case 'raw-notify-latency': return 'raw_notify_latency';
      case 'raw-backfill': return 'raw_backfill';
      case 'graphile-worker': return x.mode === 'chain' ? `gw_${steps}` : `gw_${x.mode}`;
      case 'pg-boss': return x.mode === 'chain' ? 'pgboss_hops' : `pgboss_${x.mode}`;
      default: return null;
    }
  };
  const seen = new Map();
  const records = run.map((x) => {
    if (x.bench === 'weft') return x;
    const id = peerId(x);
    if (!id) return null;
    seen.set(id, (seen.get(id) ?? 0) + 1);
    return { ...x, workload: 'peer', variant: id, rep: seen.get(id) };
  }).filter(Boolean);
  const reps = Math.max(...records.map((r) => r.rep ?? 0));
  const tp = records.find((r) => r.workload === 'throughput' && !r.idle_longpollers);
  const dags = records.find((r) => /^tick_\d+_dags$/.test(r.variant ?? ''));
  const sizes = { throughputTasks: tp?.tasks ?? 20000, tickDags: dags?.dags ?? 1000,
    dueRuns: [...new Set(records.filter((r) => /^due_runs_/.test(r.variant ?? '')).map((r) => r.runs))] };
  console.log(`Run \`${tag}\`: interrupted before its summary; rebuilt from ${records.length} lines, up to ${reps} repetition(s) (peers: as many as completed).\n`);
  console.log(markdownTable(tableRows(records, sizes)));
}
