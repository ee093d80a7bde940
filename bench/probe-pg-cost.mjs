#!/usr/bin/env node
// Where PostgreSQL's time goes in the claim and completion functions: prefills a queue through the service (limits
// out of the way, as the throughput workload), then calls weft_claim_tasks and weft_finish_quietly_many directly, with no
// HTTP and no service in between, and reports the backends' CPU per claim+finish (from /proc) and each PL/pgSQL
// function's self and total time (track_functions = all), trigger functions included, and the WAL written per op.
//
//   node bench/probe-pg-cost.mjs [--n=1000] [--conc=K] [--analyze] [--no-triggers] [--no-build]
//                                [--sql=FILE] [--claim=FUNCTION] [--counts[=nobitmap]] [--explain[=LOGFILE] [--light[=N]]]
//                                [--vacuum=TABLE:MS] [--group=G]
//
// --conc=K       K connections at once (as K workers, each with its own worker id), else one, sequentially
// --analyze      VACUUM ANALYZE after the prefill (the throughput workload does; plans differ without statistics)
// --no-triggers  disable the events-outbox triggers, to tell their cost apart
// --sql=FILE     run FILE on the fresh database first (an experiment: CREATE OR REPLACE a function, ALTER …)
// --claim=NAME   call this claim function instead of weft_claim_tasks (same signature), e.g. one --sql created
// --vacuum=T:MS  VACUUM table T every MS ms while the probe runs (how much dead rows cost the counts)
// --group=G      group commit (issue 22): each step claims for G requesters in one weft_claim_tasks_many and ends
//                their G attempts in one weft_finish_quietly_many, as the service's batch; figures stay per task
// --counts       EXPLAIN ANALYZE of the usage counts and the candidate scan after the run (=nobitmap: bitmap scans off)
// --explain      plans of every statement of one more claim + finish, from the server log (auto_explain; reads
//                /var/log/postgresql/postgresql-15-main.log unless given); --light=N: N more, without
//                instrumentation, summed per statement (how often, how long)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/flags.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const argv = parseFlags();
const N = Number(argv.n ?? 1000);
const { prepareBuild } = await import('./lib/build.mjs');
const build = prepareBuild(ROOT, { build: !argv['no-build'] });
process.env.WEFT_BENCH_BUILD = build.dir;
const db = await import('./lib/db.mjs');
const { startService } = await import('./lib/service.mjs');
const { weftApi } = await import('./lib/http.mjs');
const { SERVICE_ENV, dagDoc, independentTasks } = await import('./workloads/common.mjs');

const { procCpuS } = await import('./lib/proc.mjs');
const backendCpuMs = (pid) => procCpuS(pid) * 1000;

const fresh = await db.freshDb();
try {
  const svc = await startService(fresh.url, { env: SERVICE_ENV });
  const api = weftApi(svc.url, { maxSockets: 4, apiKey: SERVICE_ENV.WEFT_ADMIN_API_KEY });
  // As the throughput workload: limits out of the way (shared mode of the claim's limit tickets).
  await api.setPoolSlots('default_pool', 1_000_000);
  await api.registerDag(dagDoc('pc', independentTasks(20), { maxActiveRuns: 1000, maxActiveTasks: 10_000 }));
  for (let i = 0; i < Math.ceil((N + 60 + Number(argv.light ?? 0)) / 20); i++) {
    await api.post('/api/v1/dags/pc/dagRuns', { logicalDate: new Date(Date.UTC(2020, 0, 1) + i * 1000).toISOString() });
  }
  api.close();
  await svc.close();

  const c = await db.client(fresh.url);
  c.on('error', () => undefined);
  if (argv['no-triggers']) await c.query('ALTER TABLE task_instances DISABLE TRIGGER USER; ALTER TABLE dag_runs DISABLE TRIGGER USER');
  if (argv.analyze) await c.query('VACUUM ANALYZE'); // as the throughput workload does after its prefill
  await c.query("SET track_functions = 'all'");
  if (argv.sql) await c.query(fs.readFileSync(String(argv.sql), 'utf8'));
  const claimFn = String(argv.claim ?? 'weft_claim_tasks');
  const unfinished = ['none', 'scheduled', 'queued', 'running', 'up_for_retry'];
  // Each connection claims as a worker of its own, as the throughput workload's workers do (one shared worker id
  // would make the connections queue on that worker's row).
  const workerOf = new Map();
  const one = async (c) => {
    if (!workerOf.has(c)) workerOf.set(c, `probe-${workerOf.size}`);
    const { rows } = await c.query(
      `SELECT * FROM ${claimFn}($1, $2, NULL, 1, 300, NULL, NULL, now())`, [workerOf.get(c), ['pc']]);
    const l = rows[0];
    if (!l?.lease_id) throw new Error('nothing to claim');
    const f = await c.query(
      `SELECT * FROM weft_finish_quietly_many(ARRAY[$1]::uuid[], ARRAY[NULL]::uuid[], ARRAY[$2]::int[], ARRAY['success']::"TaskState"[], ARRAY[now()], ARRAY[NULL]::text[], ARRAY[NULL]::timestamptz[], ARRAY['h'], $3::"TaskState"[], 'weft_task_queued', '*')`,
      [l.lease_id, l.try_number, unfinished]);
    if (f.rows[0].outcome === 'evaluate') {
      // The run's last task (1 in 20) needs the service's evaluation; ending the attempt is enough here.
      await c.query(`SELECT weft_end_attempt($1, $2, 'success', now(), NULL, NULL, $3, 'h', 'weft_task_queued', '*')`,
        [l.task_instance_id, l.try_number, l.lease_id]);
    } else if (f.rows[0].outcome !== 'done') throw new Error(`finish: ${f.rows[0].outcome}`);
  };
  // --group=G: G tasks per step, one claim statement and one completion statement for all of them.
  const G = Number(argv.group ?? 1);
  const group = async (c) => {
    if (!workerOf.has(c)) workerOf.set(c, `probe-${workerOf.size}`);
    const w = workerOf.get(c);
    const ids = Array.from({ length: G }, (_, i) => `${w}-${i}`);
    const { rows } = await c.query(
      `SELECT * FROM weft_claim_tasks_many($1, $2, NULL, $3, 300, $4, $5, now())`,
      [ids, ['pc'], ids.map(() => 1), ids.map(() => null), ids.map(() => null)]);
    const ls = rows.filter((r) => r.lease_id);
    if (ls.length !== G) throw new Error(`claimed ${ls.length} of ${G}`);
    ls.sort((a, b) => a.dag_run_id - b.dag_run_id || (a.lease_id < b.lease_id ? -1 : 1));
    const n = ls.length;
    const f = await c.query(
      `SELECT f.ord, f.outcome FROM weft_finish_quietly_many($1::uuid[], array_fill(NULL::uuid, ARRAY[$4::int]), $2::int[],
         array_fill('success'::"TaskState", ARRAY[$4::int]), array_fill(now(), ARRAY[$4::int]), array_fill(NULL::text, ARRAY[$4::int]),
         array_fill(NULL::timestamptz, ARRAY[$4::int]), array_fill('h'::text, ARRAY[$4::int]), $3::"TaskState"[], 'weft_task_queued', '*') f`,
      [ls.map((l) => l.lease_id), ls.map((l) => l.try_number), unfinished, n]);
    for (const r of f.rows) {
      const l = ls[Number(r.ord) - 1];
      if (r.outcome === 'evaluate') {
        await c.query(`SELECT weft_end_attempt($1, $2, 'success', now(), NULL, NULL, $3, 'h', 'weft_task_queued', '*')`,
          [l.task_instance_id, l.try_number, l.lease_id]);
      } else if (r.outcome !== 'done') throw new Error(`finish: ${r.outcome}`);
    }
  };
  for (let i = 0; i < 20; i++) await one(c);
  // --conc=K: K connections claiming and finishing at once (as K workers would), else this one alone.
  const K = Number(argv.conc ?? 1);
  const conns = [c];
  for (let k = 1; k < K; k++) {
    const x = await db.client(fresh.url);
    x.on('error', () => undefined);
    await x.query("SET track_functions = 'all'");
    conns.push(x);
  }
  const pids = [];
  for (const x of conns) pids.push((await x.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  // --vacuum=TABLE:MS: VACUUM that table every MS milliseconds on a connection of its own while the probe runs.
  let vacuumer = null;
  if (argv.vacuum) {
    const [table, ms] = String(argv.vacuum).split(':');
    const v = await db.client(fresh.url);
    let stop = false;
    const loop = (async () => { while (!stop) { await new Promise((r) => setTimeout(r, Number(ms ?? 1000))); if (!stop) await v.query(`VACUUM ${table}`); } })();
    vacuumer = async () => { stop = true; await loop; await v.end(); };
  }
  await c.query('SELECT pg_stat_reset()');
  const cpuAll = () => pids.reduce((a, p) => a + backendCpuMs(p), 0);
  const cpu0 = cpuAll();
  // WAL written per op (the whole cluster's: run it on an otherwise idle PostgreSQL): what each row and index entry
  // costs in writes, without the timing noise of the disk.
  const wal0 = (await c.query('SELECT pg_current_wal_insert_lsn() AS l')).rows[0].l;
  const t0 = performance.now();
  let left = N;
  await Promise.all(conns.map(async (x) => {
    if (G > 1) {
      while (left >= G) { left -= G; await group(x); }
    } else {
      while (left-- > 0) await one(x);
    }
  }));
  const wall = performance.now() - t0;
  await vacuumer?.();
  const cpu = cpuAll() - cpu0;
  const walBytes = Number((await c.query('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1) AS b', [wal0])).rows[0].b);
  // This database's own share (pg_walinspect, when it can be created): the records that touch its relations, without
  // their full-page images, so that other databases' work and checkpoints beside the probe do not count.
  let walOwn = null;
  try {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
    const { rows: [w] } = await c.query(
      `SELECT sum(record_length - fpi_length) AS b FROM pg_get_wal_records_info_till_end_of_wal($1)
        WHERE block_ref LIKE '%/' || (SELECT oid FROM pg_database WHERE datname = current_database()) || '/%'`, [wal0]);
    walOwn = Math.round(Number(w.b) / N);
  } catch (err) { console.error(`(no per-database WAL figure: ${err.message})`); }
  for (const x of conns.slice(1)) {
    await x.query('SELECT pg_stat_force_next_flush()');
    await x.end();
  }
  await c.query('SELECT pg_stat_force_next_flush()');
  await new Promise((r) => setTimeout(r, 200));
  const { rows: fns } = await c.query(
    `SELECT funcname, calls, round(total_time::numeric / $1, 3) AS total_ms_per_op, round(self_time::numeric / $1, 3) AS self_ms_per_op
       FROM pg_stat_user_functions ORDER BY total_time DESC`, [N]);
  console.log(JSON.stringify({ probe: `claim + finish, ${K} connection(s)${G > 1 ? `, groups of ${G}` : ''}`, triggers: !argv['no-triggers'], n: N,
    ops_per_s: Math.round(N / (wall / 1000)), wall_ms_per_op: +(wall / N).toFixed(3), backend_cpu_ms_per_op: +(cpu / N).toFixed(3), wal_bytes_per_op: Math.round(walBytes / N), own_wal_bytes_per_op_no_fpi: walOwn }));
  for (const f of fns) console.log(`  ${f.funcname.padEnd(32)} calls/op ${(f.calls / N).toFixed(2).padStart(5)}  total ${f.total_ms_per_op} ms  self ${f.self_ms_per_op} ms`);
  if (argv.counts) {
    if (argv.counts === 'nobitmap') await c.query('SET enable_bitmapscan = off');
    for (const q of [
      "SELECT count(*) FROM task_instances r WHERE r.dag_id = 'pc' AND r.state = 'running'",
      "SELECT coalesce(sum(l.pool_slots), 0) FROM leases l WHERE l.pool = 'default_pool'",
      "SELECT id FROM task_instances WHERE state = 'queued' AND queue = 'pc' ORDER BY priority_weight DESC, logical_date, id LIMIT 1",
    ]) {
      for (let i = 0; i < 2; i++) {
        const { rows } = await c.query(`EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) ${q}`);
        if (i === 1) console.log(q + '\n  ' + rows.map((r) => r['QUERY PLAN']).join('\n  '));
      }
    }
  }
  if (argv.explain) {
    // Plans of every statement inside one more claim + finish, from the server log (auto_explain; needs the log).
    const log = String(argv.explain === true ? '/var/log/postgresql/postgresql-15-main.log' : argv.explain);
    const from = fs.statSync(log).size;
    const light = argv.light !== undefined;
    await c.query(`LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; SET auto_explain.log_analyze = ${light ? 'off' : 'on'}; SET auto_explain.log_buffers = ${light ? 'off' : 'on'}`);
    const reps = light ? Number(argv.light === true ? 200 : argv.light) : 1;
    for (let i = 0; i < reps; i++) await one(c);
    await c.query('SET auto_explain.log_min_duration = -1');
    await new Promise((r) => setTimeout(r, 300));
    const fd = fs.openSync(log, 'r');
    const buf = Buffer.alloc(fs.statSync(log).size - from);
    fs.readSync(fd, buf, 0, buf.length, from);
    if (!light) console.log(buf.toString());
    else {
      // Per statement (first line of its text): how often and how long, summed over the reps.
      const sums = new Map();
      const re = /duration: ([0-9.]+) ms\s+plan:\n\s*Query Text: ([^\n]*)/g;
      for (const m of buf.toString().matchAll(re)) {
        const k = m[2].slice(0, 110);
        const e = sums.get(k) ?? { n: 0, ms: 0 };
        e.n++; e.ms += Number(m[1]);
        sums.set(k, e);
      }
      for (const [k, e] of [...sums].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${(e.n / reps).toFixed(2).padStart(5)} × ${(e.ms / e.n).toFixed(3).padStart(7)} ms = ${(e.ms / reps).toFixed(3).padStart(7)} ms/op  ${k}`);
    }
  }
  await c.end();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await fresh.drop();
  build.cleanup();
  await db.dropAll();
}
