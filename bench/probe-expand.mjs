#!/usr/bin/env node
// Where the time of an expansion goes (issue 23): the scheduler workload's `expand_1000` (a run of `src → m`, m mapped
// over src's XCom, a list of N files; src's completion returns once all N instances are queued), with every
// statement the service runs during the measured completions written to the server log (log_min_duration_statement
// = 0 on the probe's own database only), summed per statement; and the service's and its backends' CPU per
// completion (from /proc).
//
//   node bench/probe-expand.mjs [--n=1000] [--samples=10] [--no-build] [--explain] [--log=/var/log/postgresql/postgresql-15-main.log]
//
// --explain  also log the plans of statements over 5 ms, with their trigger times (auto_explain); print them with
//            the summary (the timings then include the instrumentation)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/flags.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const argv = parseFlags();
const N = Number(argv.n ?? 1000);
const SAMPLES = Number(argv.samples ?? 10);
const LOG = String(argv.log ?? '/var/log/postgresql/postgresql-15-main.log');
const { prepareBuild } = await import('./lib/build.mjs');
const build = prepareBuild(ROOT, { build: !argv['no-build'] });
process.env.WEFT_BENCH_BUILD = build.dir;
const db = await import('./lib/db.mjs');
const { startService } = await import('./lib/service.mjs');
const { weftApi } = await import('./lib/http.mjs');
const { procCpuS, foreignCpu } = await import('./lib/proc.mjs');
const { SERVICE_ENV, dagDoc, now } = await import('./workloads/common.mjs');

const fresh = await db.freshDb();
// Only this database's sessions log their statements; the service's connections open after this.
await (async () => {
  const c = await db.client(db.conn('postgres'));
  try {
    await c.query(`ALTER DATABASE ${fresh.name} SET log_min_duration_statement = 0`);
    // --explain: the plans (with trigger times) of the statements over 5 ms, from auto_explain.
    if (argv.explain) {
      for (const set of ["session_preload_libraries = 'auto_explain'", 'auto_explain.log_min_duration = 5', 'auto_explain.log_analyze = on',
        'auto_explain.log_triggers = on', 'auto_explain.log_nested_statements = on', 'auto_explain.log_buffers = on']) {
        await c.query(`ALTER DATABASE ${fresh.name} SET ${set}`);
      }
    }
  } finally {
    await c.end();
  }
})();
const svc = await startService(fresh.url, { env: SERVICE_ENV });
const api = weftApi(svc.url, { apiKey: SERVICE_ENV.WEFT_ADMIN_API_KEY });
const sql = await db.client(fresh.url);
try {
  await api.setPoolSlots('default_pool', 1_000_000);
  await api.registerDag(dagDoc('map1k', [
    { taskId: 'src', type: 'noop' },
    { taskId: 'm', type: 'noop', dependsOn: ['src'], expand: { file: { xcomPull: { taskId: 'src' } } } },
  ], { maxActiveRuns: 1000, maxActiveTasks: 10_000 }));
  const files = Array.from({ length: N }, (_, i) => `s3://bucket/in/part-${String(i).padStart(5, '0')}.csv`);
  const backends = async () => (await sql.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [fresh.name])).rows.map((r) => r.pid);
  const cpuOf = (pids) => pids.reduce((s, p) => { try { return s + procCpuS(p); } catch { return s; } }, 0);
  const ms = [];
  let svcCpu = 0;
  let pgCpu = 0;
  let logFrom = 0;
  const foreign = foreignCpu();
  for (let i = 0; i < SAMPLES + 1; i++) {
    const run = await api.trigger('map1k', { logicalDate: new Date(Date.UTC(2024, 0, 1, SAMPLES + 1 - i)).toISOString() });
    const [l] = await api.lease('probe', { queues: ['map1k'], capacity: 1, waitSeconds: 0 });
    if (!l || l.taskId !== 'src') throw new Error(`expected src of ${run.runId}, leased ${l?.taskId}`);
    const pids = await backends();
    const c0 = procCpuS(svc.pid);
    const p0 = cpuOf(pids);
    if (i === 1) logFrom = fs.statSync(LOG).size;
    const t0 = now();
    await api.complete(l.leaseId, { status: 'success', xcom: { return_value: files } });
    const took = now() - t0;
    if (i > 0) {
      ms.push(took);
      svcCpu += procCpuS(svc.pid) - c0;
      pgCpu += cpuOf(pids) - p0;
    }
  }
  const sorted = [...ms].sort((a, b) => a - b);
  console.log(JSON.stringify({ probe: 'expand', n: N, samples: SAMPLES, median_ms: +sorted[sorted.length >> 1].toFixed(1),
    min_ms: +sorted[0].toFixed(1), service_cpu_ms: +(svcCpu * 1000 / SAMPLES).toFixed(1), backends_cpu_ms: +(pgCpu * 1000 / SAMPLES).toFixed(1),
    foreign_cpu_s: foreign() }));
  // The statements of the measured completions (and whatever else the service ran meanwhile), summed by text.
  await new Promise((r) => setTimeout(r, 300));
  const fd = fs.openSync(LOG, 'r');
  const size = fs.statSync(LOG).size;
  const buf = Buffer.alloc(size - logFrom);
  fs.readSync(fd, buf, 0, buf.length, logFrom);
  fs.closeSync(fd);
  const sums = new Map();
  const entry = /LOG: {2}duration: ([\d.]+) ms {2}(statement|execute|bind|parse)[^:]*: ([\s\S]*?)(?=\n\S+ \S+ UTC \[|\n?$)/g;
  for (const m of buf.toString().matchAll(entry)) {
    if (m[2] === 'bind' || m[2] === 'parse') continue;
    const key = m[3].replace(/\s+/g, ' ').slice(0, 140);
    const e = sums.get(key) ?? { n: 0, ms: 0 };
    e.n++;
    e.ms += Number(m[1]);
    sums.set(key, e);
  }
  let total = 0;
  for (const [k, e] of [...sums].sort((a, b) => b[1].ms - a[1].ms)) {
    total += e.ms;
    console.log(`  ${(e.n / SAMPLES).toFixed(2).padStart(5)} × ${(e.ms / e.n).toFixed(3).padStart(8)} ms = ${(e.ms / SAMPLES).toFixed(3).padStart(8)} ms/op  ${k}`);
  }
  console.log(`  statements: ${(total / SAMPLES).toFixed(2)} ms/op in the server (execute only)`);
  if (argv.explain) {
    const plans = [...buf.toString().matchAll(/LOG: {2}duration: [\d.]+ ms {2}plan:\n([\s\S]*?)(?=\n\S+ \S+ UTC \[|\n?$)/g)];
    if (plans.length) console.log(plans[plans.length - 1][1]);
  }
} finally {
  api.close();
  await sql.end().catch(() => undefined);
  await svc.close();
  await fresh.drop();
  await db.dropAll();
  build.cleanup();
}
