// Prints the table of an earlier bench run from bench/results/results.jsonl, as markdown (for docs/performance.md).
//   node bench/report.mjs [TAG]     (default: the latest run)
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { markdownTable } from './lib/report.mjs';

const file = fileURLToPath(new URL('./results/results.jsonl', import.meta.url));
const summaries = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"weft-summary"')).map((l) => JSON.parse(l));
const tag = process.argv[2];
const s = tag ? summaries.findLast((x) => x.tag === tag) : summaries.at(-1);
if (!s) { console.error(`no summary for ${tag ?? 'any run'} in ${file}`); process.exit(1); }
const b = s.build ?? {};
console.log(`Run \`${s.tag}\` (${s.ts}): ${s.mode}, ${s.reps} repetition(s), ${s.wall_s} s; built from ${b.source ?? '?'} ${b.ref ?? ''} ${b.commit ?? ''}${b.dirty_src ? ' (uncommitted changes in src/)' : ''}.`);
console.log(`Machine: ${s.machine.cores} cores (${s.machine.cpu_model}), ${s.machine.mem_gib} GiB, Linux ${s.machine.kernel}, Node ${s.machine.node}. ` +
  `PostgreSQL ${s.postgres.server_version}: fsync=${s.postgres.fsync}, synchronous_commit=${s.postgres.synchronous_commit}, ` +
  `shared_buffers=${s.postgres.shared_buffers}, wal_level=${s.postgres.wal_level}, full_page_writes=${s.postgres.full_page_writes}, ` +
  `max_wal_size=${s.postgres.max_wal_size}MB, work_mem=${s.postgres.work_mem}, max_connections=${s.postgres.max_connections}.\n`);
console.log(markdownTable(s.figures.map((f) => [f.section, f.figure, f.weft, f.target, f.peers])));
